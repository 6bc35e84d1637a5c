#include "io/torch_checkpoint.hpp"

#include <zip.h>  // libzip: zip_open, zip_fread, ...

#include <cerrno>
#include <cstdio>   // fopen (first bytes, errno text)
#include <cstring>  // memcpy, strerror
#include <filesystem>
#include <memory>

#include "core/error.hpp"  // fail_model, fail_io
#include "io/pickle.hpp"   // Unpickler

namespace bert::io {

namespace {

struct StorageType {
  const char* global;
  DType dtype;
};
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", DType::DTYPE_F32},     {"torch.HalfStorage", DType::DTYPE_F16},
    {"torch.BFloat16Storage", DType::DTYPE_BF16}, {"torch.DoubleStorage", DType::DTYPE_F64},
    {"torch.LongStorage", DType::DTYPE_I64},      {"torch.IntStorage", DType::DTYPE_I32},
    {"torch.CharStorage", DType::DTYPE_I8},       {"torch.ByteStorage", DType::DTYPE_U8},
    {"torch.BoolStorage", DType::DTYPE_BOOL},
};
constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";

// A data.pkl holds ~120 bytes per tensor: 64 MB is half a million tensors.
constexpr uint64_t kMaxPickleBytes = uint64_t(64) << 20;
// torch.save stores entries uncompressed and float weights do not compress; a deflated entry of
// over a megabyte that expands more than this is a zip bomb, not a checkpoint.
constexpr uint64_t kMaxDeflateRatio = 100;

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};

struct Storage {
  std::string key;
  DType dtype;
  int64_t numel;
  const unsigned char* data = nullptr;
  bool loaded = false;
};

struct Tensor {
  size_t storage;
  int64_t offset;
  std::vector<int64_t> size, stride;
};

class CheckpointReader {
 public:
  explicit CheckpointReader(const std::string& path) : path_(path), ar_(path) {}

  TensorArchive read() {
    open();
    std::string pickle = read_small_entry(root_ + "data.pkl", kMaxPickleBytes);
    check_byteorder();

    PickleHooks hooks;
    hooks.allowed_globals = {kOrderedDict, kRebuildTensorV2, kRebuildTensor, kRebuildParameter};
    for (const auto& s : kStorageTypes) hooks.allowed_globals.insert(s.global);
    hooks.persistent_load = [this](Unpickler& u, const PickleValue& pid) { return persistent_load(u, pid); };
    hooks.reduce = [this](Unpickler& u, const PickleValue& fn, const PickleValue& args) {
      return reduce(u, fn, args);
    };
    Unpickler unpickler(pickle, path_, hooks);
    const PickleValue* root = unpickler.load();
    if (root->kind != PickleKind::PICKLE_DICT)
      fail_model("{}: the pickle holds a {}, not a state dict", path_, pickle_kind_name(root->kind));
    for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
      const PickleValue* key = root->items[i];
      const PickleValue* value = root->items[i + 1];
      if (key->kind != PickleKind::PICKLE_STRING)
        fail_model("{}: the state dict has a {} key; expected tensor names", path_,
                   pickle_kind_name(key->kind));
      if (value->kind != PickleKind::PICKLE_OBJECT || value->text != "tensor")
        fail_model("{}: state dict entry '{}' is a {}, not a tensor", path_, key->text,
                   pickle_kind_name(value->kind));
      ar_.add(materialize(key->text, tensors_[size_t(value->number)]));
    }
    return std::move(ar_);
  }

 private:
  [[noreturn]] void fail_zip(const std::string& what) {
    fail_model("{}: {}: {} (the file is truncated or corrupt)", path_, what, zip_strerror(zip_.get()));
  }

  void open() {
    // Our own open first: a clear message for a missing file, and a look at the first bytes.
    FILE* f = std::fopen(path_.c_str(), "rb");
    if (!f) fail_io("cannot open {}: {}", path_, std::strerror(errno));
    unsigned char head[4] = {0, 0, 0, 0};
    size_t got = std::fread(head, 1, 4, f);
    std::fclose(f);
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) fail_io("cannot read {}: is a directory", path_);
    file_size_ = std::filesystem::file_size(path_, ec);
    if (ec) fail_io("cannot read {}: {}", path_, ec.message());

    int err = 0;
    zip_.reset(zip_open(path_.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!zip_) {
      if (got >= 2 && head[0] == 0x80 && head[1] <= 5)
        fail_model(
            "{}: a PyTorch checkpoint in the legacy (before 1.6) format, which is not supported; re-save "
            "it with a current PyTorch (torch.save(torch.load(f), f))",
            path_);
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      std::string why = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      bool is_zip = got == 4 && head[0] == 'P' && head[1] == 'K';
      fail_model("{}: cannot read it as a zip archive: {}{}", path_, why,
                 is_zip ? " (the file is truncated or corrupt)" : " (not a PyTorch checkpoint)");
    }

    // Find `<root>/data.pkl`: one folder level, whatever its name.
    zip_int64_t n = zip_get_num_entries(zip_.get(), 0);
    for (zip_int64_t i = 0; i < n && root_.empty(); ++i) {
      const char* name = zip_get_name(zip_.get(), zip_uint64_t(i), ZIP_FL_ENC_RAW);
      if (!name) fail_zip("cannot read the zip directory");
      std::string_view s(name);
      size_t slash = s.find('/');
      if (slash != std::string_view::npos && slash > 0 && s.substr(slash + 1) == "data.pkl")
        root_ = std::string(s.substr(0, slash + 1));
    }
    if (root_.empty())
      fail_model("{}: no <folder>/data.pkl in the zip archive; not a PyTorch checkpoint", path_);
  }

  zip_int64_t locate(const std::string& name) {
    return zip_name_locate(zip_.get(), name.c_str(), ZIP_FL_ENC_RAW);
  }

  // Size of entry `index`, checked against the file so that a corrupt directory cannot make us
  // allocate more than the entry could decompress to.
  uint64_t entry_size(zip_int64_t index, const std::string& name) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), zip_uint64_t(index), 0, &st) != 0) fail_zip("cannot read entry " + name);
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
      fail_model("{}: zip entry {} has no size", path_, name);
    bool stored = st.comp_method == ZIP_CM_STORE;
    if (st.comp_size > file_size_ || (stored && st.size != st.comp_size) ||
        (!stored && st.size / 1100 > st.comp_size))  // deflate cannot expand more than ~1032:1
      fail_model("{}: zip entry {} claims {} bytes from {} compressed in a {}-byte file (corrupt)", path_,
                 name, st.size, st.comp_size, file_size_);
    if (!stored && st.size > (uint64_t(1) << 20) && st.size / kMaxDeflateRatio > st.comp_size)
      fail_model("{}: zip entry {} expands {} compressed bytes to {}, more than {}:1; refusing a likely zip bomb",
                 path_, name, st.comp_size, st.size, kMaxDeflateRatio);
    return st.size;
  }

  void read_entry(zip_int64_t index, const std::string& name, void* out, uint64_t size) {
    zip_file_t* f = zip_fopen_index(zip_.get(), zip_uint64_t(index), 0);
    if (!f) fail_zip("cannot open entry " + name);
    uint64_t done = 0;
    auto* dst = static_cast<unsigned char*>(out);
    while (done < size) {
      zip_int64_t got = zip_fread(f, dst + done, size - done);
      if (got <= 0) {
        std::string why = got < 0 ? zip_file_strerror(f) : "unexpected end of data";
        zip_fclose(f);
        fail_model("{}: cannot read entry {}: {} (the file is truncated or corrupt)", path_, name, why);
      }
      done += uint64_t(got);
    }
    char extra;
    zip_int64_t more = zip_fread(f, &extra, 1);  // reaching the end also checks the CRC
    std::string why = more < 0 ? zip_file_strerror(f) : "";
    int rc = zip_fclose(f);
    if (more != 0 || rc != 0)
      fail_model("{}: cannot read entry {}: {} (the file is truncated or corrupt)", path_, name,
                 more > 0      ? "longer than its recorded size"
                 : why.empty() ? "close failed"
                               : why);
  }

  std::string read_small_entry(const std::string& name, uint64_t max) {
    zip_int64_t index = locate(name);
    if (index < 0) fail_model("{}: zip entry {} is missing", path_, name);
    uint64_t size = entry_size(index, name);
    if (size > max)
      fail_model("{}: zip entry {} is {} bytes, more than the {} allowed", path_, name, size, max);
    std::string out(size, '\0');
    read_entry(index, name, out.data(), size);
    return out;
  }

  void check_byteorder() {
    if (locate(root_ + "byteorder") < 0) return;  // absent in files from older torch: little-endian
    std::string order = read_small_entry(root_ + "byteorder", 64);
    if (order == "little") return;
    if (order == "big")
      fail_model("{}: a big-endian checkpoint (byteorder 'big'), which is not supported", path_);
    fail_model("{}: unknown byteorder '{}' (expected 'little')", path_, order);
  }

  // ('storage', storage_type, key, location, numel) -> a storage object.
  PickleValue* persistent_load(Unpickler& u, const PickleValue& pid) {
    const auto& it = pid.items;
    if (pid.kind != PickleKind::PICKLE_TUPLE || it.size() != 5 || it[0]->kind != PickleKind::PICKLE_STRING ||
        it[0]->text != "storage" || it[1]->kind != PickleKind::PICKLE_GLOBAL ||
        it[2]->kind != PickleKind::PICKLE_STRING || it[4]->kind != PickleKind::PICKLE_INT)
      u.fail("persistent id is not ('storage', type, key, location, numel)");
    const StorageType* type = nullptr;
    for (const auto& s : kStorageTypes)
      if (it[1]->text == s.global) type = &s;
    if (!type) u.fail(fmt::format("persistent id names '{}', which is not a storage type", it[1]->text));
    const std::string& key = it[2]->text;
    int64_t numel = it[4]->number;
    if (numel < 0 || uint64_t(numel) > uint64_t(INT64_MAX) / dtype_size(type->dtype))
      u.fail(fmt::format("storage '{}' has an invalid size {}", key, numel));

    size_t index = storages_.size();
    auto found = storage_index_.find(key);
    if (found != storage_index_.end()) {
      index = found->second;
      const Storage& s = storages_[index];
      if (s.dtype != type->dtype || s.numel != numel)
        u.fail(fmt::format("storage '{}' is used as {} {} and as {} {}", key, s.numel, dtype_name(s.dtype),
                           numel, dtype_name(type->dtype)));
    } else {
      storage_index_.emplace(key, index);
      storages_.push_back(Storage{key, type->dtype, numel});
    }
    PickleValue* v = u.make(PickleKind::PICKLE_OBJECT);
    v->text = "storage";
    v->number = int64_t(index);
    return v;
  }

  static std::vector<int64_t> int_tuple(Unpickler& u, const PickleValue& v, const char* what) {
    if (v.kind != PickleKind::PICKLE_TUPLE)
      u.fail(fmt::format("tensor {} is a {}, not a tuple", what, pickle_kind_name(v.kind)));
    std::vector<int64_t> out;
    for (const PickleValue* x : v.items) {
      if (x->kind != PickleKind::PICKLE_INT)
        u.fail(fmt::format("tensor {} holds a {}", what, pickle_kind_name(x->kind)));
      out.push_back(x->number);
    }
    return out;
  }

  PickleValue* reduce(Unpickler& u, const PickleValue& fn, const PickleValue& args) {
    const auto& a = args.items;
    if (fn.text == kOrderedDict) {
      if (!a.empty()) u.fail("OrderedDict called with arguments");
      return u.make(PickleKind::PICKLE_DICT);
    }
    if (fn.text == kRebuildParameter) {
      if (a.size() != 3 || a[0]->kind != PickleKind::PICKLE_OBJECT || a[0]->text != "tensor")
        u.fail("_rebuild_parameter expects (tensor, requires_grad, hooks)");
      return a[0];
    }
    bool v2 = fn.text == kRebuildTensorV2;
    if (!v2 && fn.text != kRebuildTensor) u.fail(fmt::format("'{}' cannot be called", fn.text));
    if (v2 ? (a.size() != 6 && a.size() != 7) : a.size() != 4)
      u.fail(fmt::format("{} called with {} arguments", fn.text, a.size()));
    if (a[0]->kind != PickleKind::PICKLE_OBJECT || a[0]->text != "storage")
      u.fail(fmt::format("{} expects a storage first, not a {}", fn.text, pickle_kind_name(a[0]->kind)));
    if (a[1]->kind != PickleKind::PICKLE_INT) u.fail("tensor storage offset is not an integer");
    Tensor t{size_t(a[0]->number), a[1]->number, int_tuple(u, *a[2], "size"), int_tuple(u, *a[3], "stride")};
    if (t.size.size() != t.stride.size())
      u.fail(fmt::format("tensor size has {} dimensions but stride has {}", t.size.size(), t.stride.size()));
    PickleValue* v = u.make(PickleKind::PICKLE_OBJECT);
    v->text = "tensor";
    v->number = int64_t(tensors_.size());
    tensors_.push_back(std::move(t));
    return v;
  }

  const Storage& load_storage(size_t index) {
    Storage& s = storages_[index];
    if (s.loaded) return s;
    std::string name = root_ + "data/" + s.key;
    zip_int64_t entry = locate(name);
    if (entry < 0) fail_model("{}: storage '{}' ({}) is missing from the zip archive", path_, s.key, name);
    uint64_t size = entry_size(entry, name);
    uint64_t want = uint64_t(s.numel) * dtype_size(s.dtype);
    if (size != want)
      fail_model("{}: storage '{}' holds {} bytes, but the pickle declares {} elements of {} ({} bytes)",
                 path_, s.key, size, s.numel, dtype_name(s.dtype), want);
    void* buf = ar_.allocate(size);
    read_entry(entry, name, buf, size);
    s.data = static_cast<const unsigned char*>(buf);
    s.loaded = true;
    return s;
  }

  TensorData materialize(const std::string& name, const Tensor& t) {
    const Storage& s = load_storage(t.storage);
    const size_t es = dtype_size(s.dtype);
    TensorData out{name, s.dtype, t.size, nullptr, 0};
    int64_t numel = checked_numel(t.size, es);
    if (numel < 0) fail_model("{}: tensor '{}' has an invalid shape {}", path_, name, shape_string(t.size));
    if (t.offset < 0) fail_model("{}: tensor '{}' has a negative storage offset {}", path_, name, t.offset);
    for (int64_t st : t.stride)
      if (st < 0) fail_model("{}: tensor '{}' has a negative stride {}", path_, name, shape_string(t.stride));
    out.nbytes = size_t(numel) * es;
    if (numel == 0) {
      out.data = s.data;
      return out;
    }
    // Last element index the view touches; must be inside the storage.
    __int128 last = t.offset;
    for (size_t i = 0; i < t.size.size(); ++i) last += __int128(t.size[i] - 1) * t.stride[i];
    if (last >= s.numel)
      fail_model(
          "{}: tensor '{}' (shape {}, stride {}, offset {}) reaches past the end of storage '{}' ({} "
          "elements)",
          path_, name, shape_string(t.size), shape_string(t.stride), t.offset, s.key, s.numel);

    // Weights never alias themselves: a view with more elements than its storage (stride 0, or
    // overlapping rows) would turn a few bytes of file into gigabytes of gathered copies.
    if (numel > s.numel)
      fail_model("{}: tensor '{}' (shape {}, stride {}) has {} elements but its storage '{}' only {}; overlapping "
                 "views are not weights",
                 path_, name, shape_string(t.size), shape_string(t.stride), numel, s.key, s.numel);
    bool contiguous = true;
    int64_t expected = 1;
    for (size_t i = t.size.size(); i-- > 0;) {
      if (t.size[i] != 1 && t.stride[i] != expected) contiguous = false;
      expected *= t.size[i];
    }
    const unsigned char* base = s.data + size_t(t.offset) * es;
    if (contiguous) {
      out.data = base;
      return out;
    }
    // A strided view (e.g. a saved transpose): gather it, row-major.
    auto* dst = static_cast<unsigned char*>(ar_.allocate(out.nbytes));
    std::vector<int64_t> idx(t.size.size(), 0);
    for (int64_t n = 0; n < numel; ++n) {
      int64_t src = 0;
      for (size_t i = 0; i < idx.size(); ++i) src += idx[i] * t.stride[i];
      std::memcpy(dst + size_t(n) * es, base + size_t(src) * es, es);
      for (size_t i = idx.size(); i-- > 0;) {
        if (++idx[i] < t.size[i]) break;
        idx[i] = 0;
      }
    }
    out.data = dst;
    return out;
  }

  std::string path_;
  TensorArchive ar_;
  std::unique_ptr<zip_t, ZipDiscard> zip_;
  uint64_t file_size_ = 0;
  std::string root_;  // "<folder>/"
  std::vector<Storage> storages_;
  std::unordered_map<std::string, size_t> storage_index_;
  std::vector<Tensor> tensors_;
};

}  // namespace

TensorArchive read_torch_checkpoint(const std::string& path) {
  return CheckpointReader(path).read();
}

}  // namespace bert::io
