// pytorch_model.bin: the fixtures (same tensors as model.safetensors, tied weights sharing one
// storage), the generated testdata/io/*.bin (every tensor layout, every bad file), and truncations.
#include <doctest/doctest.h>

#include <cstring>

#include "io/io_test_support.hpp"
#include "io/safetensors.hpp"
#include "io/torch_checkpoint.hpp"
#include "test_support.hpp"  // shared_path, testdata_path

using namespace bert::io;
using namespace bert::io::test;

namespace {

std::string fixture(const std::string& rel) {
  return bert::test::shared_path("fixtures/" + rel).string();
}
std::string testdata(const std::string& name) {
  return bert::test::testdata_path("io/" + name).string();
}

template <class T>
std::vector<T> values(const TensorData& t) {
  REQUIRE(t.nbytes % sizeof(T) == 0);
  std::vector<T> v(t.nbytes / sizeof(T));
  if (t.nbytes) std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

std::string error_loading(const std::string& path, bert::ErrorKind kind = bert::ErrorKind::ERROR_MODEL) {
  std::string msg = error_of([&] { read_torch_checkpoint(path); }, kind);
  CHECK_CONTAINS(msg, path);
  return msg;
}

}  // namespace

TEST_CASE("fixture tiny-uncased-mlm: .bin and .safetensors hold the same tensors") {
  TensorArchive bin = read_torch_checkpoint(fixture("tiny-uncased-mlm/pytorch_model.bin"));
  TensorArchive st = read_safetensors(fixture("tiny-uncased-mlm/model.safetensors"));
  CHECK(bin.tensors().size() == 44);
  CHECK(st.tensors().size() == 42);
  for (const auto& t : st.tensors()) {
    const TensorData* b = bin.find(t.name);
    REQUIRE_MESSAGE(b, t.name);
    CHECK(b->dtype == t.dtype);
    CHECK(b->shape == t.shape);
    REQUIRE(b->nbytes == t.nbytes);
    CHECK_MESSAGE(std::memcmp(b->data, t.data, t.nbytes) == 0, t.name);
  }
  // The two tied keys are views of the storage of the weights they are tied to.
  const TensorData* decoder = bin.find("cls.predictions.decoder.weight");
  const TensorData* words = bin.find("bert.embeddings.word_embeddings.weight");
  REQUIRE(decoder);
  REQUIRE(words);
  CHECK(decoder->data == words->data);
  CHECK(decoder->shape == std::vector<int64_t>{30522, 32});
  REQUIRE(bin.find("cls.predictions.decoder.bias"));
  CHECK(bin.find("cls.predictions.decoder.bias")->data == bin.find("cls.predictions.bias")->data);
  // State-dict order is kept.
  CHECK(bin.tensors().front().name == "bert.embeddings.word_embeddings.weight");
}

TEST_CASE("fixture tiny-uncased-cls/pytorch_model.bin") {
  TensorArchive ar = read_torch_checkpoint(fixture("tiny-uncased-cls/pytorch_model.bin"));
  const TensorData* w = ar.find("classifier.weight");
  REQUIRE(w);
  CHECK(w->shape == std::vector<int64_t>{3, 32});
  REQUIRE(ar.find("classifier.bias"));
  CHECK(ar.find("classifier.bias")->shape == std::vector<int64_t>{3});
  REQUIRE(ar.find("bert.pooler.dense.weight"));
  CHECK(ar.find("bert.pooler.dense.weight")->shape == std::vector<int64_t>{32, 32});
  CHECK(ar.find("bert.embeddings.word_embeddings.weight")->shape == std::vector<int64_t>{30522, 32});
  // 5 embedding tensors + 2 layers x 16 + pooler 2 + classifier 2 (+ position_ids if saved)
  CHECK(ar.tensors().size() >= 41);
  for (const auto& t : ar.tensors())
    if (t.dtype == DType::DTYPE_F32)
      for (float x : to_f32(t)) REQUIRE(std::isfinite(x));
}

TEST_CASE("generated archive: layouts, dtypes, shared storage, parameters, root folder 'archive/'") {
  TensorArchive ar = read_torch_checkpoint(testdata("tiny_archive.bin"));
  CHECK(ar.tensors().size() == 12);

  const TensorData* a = ar.find("a.f32");
  REQUIRE(a);
  CHECK(a->shape == std::vector<int64_t>{2, 3});
  CHECK(values<float>(*a) == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK(ar.find("a.tied")->data == a->data);  // one storage, no copy

  const TensorData* tr = ar.find("a.transposed");  // size (3, 2), stride (1, 3), offset 2
  REQUIRE(tr);
  CHECK(tr->shape == std::vector<int64_t>{3, 2});
  CHECK(values<float>(*tr) == std::vector<float>{102, 105, 103, 106, 104, 107});

  const TensorData* off = ar.find("a.offset");  // contiguous, offset 4 into the same storage
  REQUIRE(off);
  CHECK(values<float>(*off) == std::vector<float>{104, 105});

  const TensorData* h = ar.find("h.f16");
  REQUIRE(h);
  CHECK(h->dtype == DType::DTYPE_F16);
  CHECK(to_f32(*h) == std::vector<float>{1.0f, -2.0f, 0.5f, 65504.0f});
  const TensorData* b = ar.find("h.bf16");
  REQUIRE(b);
  CHECK(b->dtype == DType::DTYPE_BF16);
  CHECK(to_f32(*b) == std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f});

  const TensorData* pos = ar.find("bert.embeddings.position_ids");
  REQUIRE(pos);
  CHECK(pos->dtype == DType::DTYPE_I64);
  CHECK(pos->shape == std::vector<int64_t>{1, 5});
  CHECK(values<int64_t>(*pos) == std::vector<int64_t>{0, 1, 2, 3, 4});

  REQUIRE(ar.find("p.param"));
  CHECK(values<float>(*ar.find("p.param")) == std::vector<float>{7, 8});
  REQUIRE(ar.find("empty"));
  CHECK(ar.find("empty")->shape == std::vector<int64_t>{0, 3});
  CHECK(ar.find("empty")->nbytes == 0);
  REQUIRE(ar.find("scalar"));
  CHECK(ar.find("scalar")->shape.empty());
  CHECK(values<float>(*ar.find("scalar")) == std::vector<float>{42});
  CHECK(values<int32_t>(*ar.find("i.int32")) == std::vector<int32_t>{-1, 2, -3});
  const TensorData* d = ar.find("d.double");
  REQUIRE(d);
  CHECK(d->dtype == DType::DTYPE_F64);
  CHECK(values<double>(*d) == std::vector<double>{0.25, -0.5});
  // A double tensor loads, but is not silently taken as float weights.
  CHECK_CONTAINS(error_of([&] { to_f32(*d); }), "tensor 'd.double' has dtype F64");
}

// ---- bad inputs, one each ----

TEST_CASE("bad: missing file") {
  TempDir dir;
  std::string msg = error_loading(dir.file("pytorch_model.bin"), bert::ErrorKind::ERROR_IO);
  CHECK_CONTAINS(msg, "cannot open " + dir.file("pytorch_model.bin") + ": No such file or directory");
}

TEST_CASE("bad: a pickle asking for posix.system is refused before anything runs") {
  std::string path = testdata("evil_posix_system.bin");
  CHECK(error_loading(path) ==
        path +
            ": refusing to load: the pickle asks for global 'posix.system' (only tensors "
            "are allowed; loading a checkpoint never runs code)");
}

TEST_CASE("bad: a pickle asking for os.system") {
  CHECK_CONTAINS(error_loading(testdata("evil_os_system.bin")),
                 "refusing to load: the pickle asks for global 'os.system'");
}

TEST_CASE("bad: pickle stack underflow") {
  CHECK_CONTAINS(error_loading(testdata("stack_underflow.bin")), "stack underflow: TUPLE2 needs a value");
}

TEST_CASE("bad: pickle ends early") {
  CHECK_CONTAINS(error_loading(testdata("pickle_eof.bin")), "the pickle ends early");
}

TEST_CASE("bad: truncated zip") {
  std::string msg = error_loading(testdata("truncated.bin"));
  CHECK_CONTAINS(msg, "cannot read it as a zip archive");
  CHECK_CONTAINS(msg, "truncated or corrupt");
}

TEST_CASE("bad: truncated copies of the fixture") {
  std::string whole = read_bytes(fixture("tiny-uncased-mlm/pytorch_model.bin"));
  TempDir dir;
  std::string path = dir.file("pytorch_model.bin");
  for (size_t keep :
       {size_t(0), size_t(3), size_t(100), whole.size() / 2, whole.size() - 30, whole.size() - 1}) {
    write_bytes(path, whole.substr(0, keep));
    CAPTURE(keep);
    error_loading(path);
  }
}

TEST_CASE("bad: big-endian checkpoint") {
  CHECK_CONTAINS(error_loading(testdata("big_endian.bin")), "big-endian checkpoint (byteorder 'big')");
}

TEST_CASE("bad: tensor reaching past its storage") {
  CHECK_CONTAINS(
      error_loading(testdata("short_storage.bin")),
      "tensor 'w' (shape [2, 3], stride [3, 1], offset 0) reaches past the end of storage '0' (4 elements)");
}

TEST_CASE("bad: a stride-0 view with more elements than its storage (4 bytes that would gather to 4 GB)") {
  CHECK_CONTAINS(error_loading(testdata("stride_zero.bin")),
                 "tensor 'w' (shape [1073741824], stride [0]) has 1073741824 elements but its storage '0' only 1; "
                 "overlapping views are not weights");
}

TEST_CASE("bad: a zip bomb (4 MB of weights deflated to 4 KB)") {
  CHECK_CONTAINS(error_loading(testdata("zip_bomb.bin")), "more than 100:1; refusing a likely zip bomb");
}

TEST_CASE("bad: storage smaller than the pickle declares") {
  CHECK_CONTAINS(error_loading(testdata("storage_size_mismatch.bin")),
                 "storage '0' holds 16 bytes, but the pickle declares 10 elements of F32 (40 bytes)");
}

TEST_CASE("bad: legacy (pre-1.6) format") {
  CHECK_CONTAINS(error_loading(testdata("legacy.bin")), "legacy (before 1.6) format");
}

TEST_CASE("bad: not a checkpoint at all") {
  TempDir dir;
  write_bytes(dir.file("pytorch_model.bin"), "hello, this is text\n");
  CHECK_CONTAINS(error_loading(dir.file("pytorch_model.bin")), "not a PyTorch checkpoint");
}

TEST_CASE("bad: a safetensors file is not taken for a .bin") {
  CHECK_CONTAINS(error_loading(fixture("tiny-uncased-mlm/model.safetensors")), "not a PyTorch checkpoint");
}
