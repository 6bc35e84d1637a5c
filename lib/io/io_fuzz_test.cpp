// A small deterministic fuzz loop over all three readers: valid files truncated at every offset
// and with bits flipped at every offset. The only acceptable outcomes are a successful read (after
// which every tensor byte is touched, so ASan sees any view outside the file) or a bert::Error.
// Flipped bytes inside a zip entry would only trip libzip's CRC check, so the pickle is mutated
// on its own and a fresh zip (with correct CRCs) is built around each mutation.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <random>

#include "io/gguf.hpp"
#include "io/io_test_support.hpp"
#include "io/safetensors.hpp"
#include "io/torch_checkpoint.hpp"
#include "test_support.hpp"  // testdata_path

using namespace bert::io;
using namespace bert::io::test;

namespace {

struct Outcome {
  int ok = 0, refused = 0;
};

// Touches every byte of every tensor.
unsigned touch(const TensorArchive& ar) {
  unsigned sum = 0;
  for (const auto& t : ar.tensors()) {
    const auto* p = static_cast<const unsigned char*>(t.data);
    for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];
    if (dtype_is_float(t.dtype)) sum += unsigned(to_f32(t).size());
  }
  return sum;
}

// Writes `bytes` to `path` and reads it with `read`; fails the test on anything but success or
// a bert::Error.
template <class Read>
void try_read(const std::string& path, const std::string& bytes, Read read, Outcome& out,
              const std::string& what) {
  write_bytes(path, bytes);
  try {
    read(path);
    ++out.ok;
  } catch (const bert::Error& e) {
    ++out.refused;
  } catch (const std::exception& e) {
    FAIL("non-bert exception for " << what << ": " << e.what());
  } catch (...) {
    FAIL("unknown exception for " << what);
  }
}

template <class Read>
Outcome mutate(const std::string& original, const std::string& path, Read read, uint32_t seed) {
  Outcome out;
  std::mt19937 rng(seed);
  for (size_t n = 0; n < original.size(); ++n)
    try_read(path, original.substr(0, n), read, out, "truncation at " + std::to_string(n));
  for (size_t i = 0; i < original.size(); ++i) {
    std::string b = original;
    b[i] = char(b[i] ^ (1 << (rng() % 8)));
    try_read(path, b, read, out, "bit flip at " + std::to_string(i));
    b = original;
    static constexpr std::array<unsigned char, 6> kEdge = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe};
    b[i] = char(kEdge[rng() % kEdge.size()]);
    try_read(path, b, read, out, "byte set at " + std::to_string(i));
  }
  return out;
}

// ---- a minimal writer of stored zip archives, for rebuilding .bin files around a pickle ----

uint32_t crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char byte : s) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}

template <class T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::string build_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, central;
  for (const auto& [name, data] : entries) {
    uint32_t offset = uint32_t(out.size()), crc = crc32(data), size = uint32_t(data.size());
    put<uint32_t>(out, 0x04034b50);
    put<uint16_t>(out, 20), put<uint16_t>(out, 0), put<uint16_t>(out, 0), put<uint16_t>(out, 0);
    put<uint16_t>(out, 0x21), put<uint32_t>(out, crc), put<uint32_t>(out, size), put<uint32_t>(out, size);
    put<uint16_t>(out, uint16_t(name.size())), put<uint16_t>(out, 0);
    out += name + data;
    put<uint32_t>(central, 0x02014b50);
    put<uint16_t>(central, 20), put<uint16_t>(central, 20), put<uint16_t>(central, 0),
        put<uint16_t>(central, 0);
    put<uint16_t>(central, 0), put<uint16_t>(central, 0x21), put<uint32_t>(central, crc);
    put<uint32_t>(central, size), put<uint32_t>(central, size), put<uint16_t>(central, uint16_t(name.size()));
    put<uint16_t>(central, 0), put<uint16_t>(central, 0), put<uint16_t>(central, 0),
        put<uint16_t>(central, 0);
    put<uint32_t>(central, 0), put<uint32_t>(central, offset);
    central += name;
  }
  uint32_t cd_offset = uint32_t(out.size());
  out += central;
  put<uint32_t>(out, 0x06054b50);
  put<uint16_t>(out, 0), put<uint16_t>(out, 0), put<uint16_t>(out, uint16_t(entries.size()));
  put<uint16_t>(out, uint16_t(entries.size())), put<uint32_t>(out, uint32_t(central.size()));
  put<uint32_t>(out, cd_offset), put<uint16_t>(out, 0);
  return out;
}

// The entries of a stored zip, read from its local headers (enough for our own test files).
std::vector<std::pair<std::string, std::string>> read_stored_zip(const std::string& z) {
  std::vector<std::pair<std::string, std::string>> entries;
  size_t pos = 0;
  auto u16 = [&](size_t at) { return uint16_t(uint8_t(z[at]) | uint8_t(z[at + 1]) << 8); };
  auto u32 = [&](size_t at) { return uint32_t(u16(at) | uint32_t(u16(at + 2)) << 16); };
  while (pos + 30 <= z.size() && u32(pos) == 0x04034b50) {
    REQUIRE(u16(pos + 8) == 0);  // stored
    uint32_t size = u32(pos + 18);
    uint16_t name_len = u16(pos + 26), extra_len = u16(pos + 28);
    std::string name = z.substr(pos + 30, name_len);
    size_t data = pos + 30 + name_len + extra_len;
    entries.emplace_back(name, z.substr(data, size));
    pos = data + size;
  }
  return entries;
}

auto read_st = [](const std::string& p) { touch(read_safetensors(p)); };
auto read_bin = [](const std::string& p) { touch(read_torch_checkpoint(p)); };
auto read_gguf = [](const std::string& p) {
  GgufFile f(p);
  for (const auto& kv : f.kvs()) (void)f.format_value(kv, 1000);
  touch(f.tensors());
};

}  // namespace

TEST_CASE("fuzz: safetensors") {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> h = {0x3c00, 0x4000};
  int64_t ids[3] = {0, 1, 2};
  std::vector<TensorData> in = {{"bert.a.weight", DType::DTYPE_F32, {2, 3}, a.data(), 24},
                                {"bert.h", DType::DTYPE_F16, {2}, h.data(), 4},
                                {"position_ids", DType::DTYPE_I64, {1, 3}, ids, 24}};
  TempDir dir;
  write_safetensors(dir.file("orig.safetensors"), in);
  std::string original = read_bytes(dir.file("orig.safetensors"));
  Outcome out = mutate(original, dir.file("m.safetensors"), read_st, 1);
  MESSAGE("safetensors: " << out.ok << " read, " << out.refused << " refused");
  CHECK(out.refused > 0);
}

TEST_CASE("fuzz: pytorch_model.bin (the zip layer)") {
  std::string original = read_bytes(bert::test::testdata_path("io/tiny_archive.bin").string());
  TempDir dir;
  Outcome out = mutate(original, dir.file("pytorch_model.bin"), read_bin, 2);
  MESSAGE("zip: " << out.ok << " read, " << out.refused << " refused");
  CHECK(out.refused > 0);
}

TEST_CASE("fuzz: pytorch_model.bin (the pickle, in a rebuilt zip)") {
  auto entries = read_stored_zip(read_bytes(bert::test::testdata_path("io/tiny_archive.bin").string()));
  REQUIRE(entries.size() == 13);
  REQUIRE(entries[0].first == "archive/data.pkl");
  TempDir dir;
  // The rebuilt zip of the unchanged pickle reads, so the loop below mutates only the pickle.
  write_bytes(dir.file("same.bin"), build_zip(entries));
  CHECK(read_torch_checkpoint(dir.file("same.bin")).tensors().size() == 12);

  const std::string pickle = entries[0].second;
  Outcome out;
  std::mt19937 rng(3);
  auto attempt = [&](const std::string& p, const std::string& what) {
    auto e = entries;
    e[0].second = p;
    try_read(dir.file("pytorch_model.bin"), build_zip(e), read_bin, out, what);
  };
  for (size_t n = 0; n < pickle.size(); ++n)
    attempt(pickle.substr(0, n), "pickle cut at " + std::to_string(n));
  for (size_t i = 0; i < pickle.size(); ++i) {
    std::string p = pickle;
    p[i] = char(p[i] ^ (1 << (rng() % 8)));
    attempt(p, "pickle bit flip at " + std::to_string(i));
    p = pickle;
    p[i] = char(rng() % 256);
    attempt(p, "pickle byte set at " + std::to_string(i));
  }
  MESSAGE("pickle: " << out.ok << " read, " << out.refused << " refused");
  CHECK(out.refused > 0);
}

TEST_CASE("fuzz: GGUF") {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> h = {0x3c00, 0x4000};
  GgufWriter g(32);
  g.set<uint32_t>("bert.block_count", 2);
  g.set<std::string>("general.architecture", "bert");
  g.set_array<std::string>("tokenizer.ggml.tokens", {"[PAD]", "[UNK]", "a"});
  g.set_array<float>("x", {0.5f});
  g.add_tensor({"bert.a.weight", DType::DTYPE_F32, {2, 3}, a.data(), 24});
  g.add_tensor({"bert.h", DType::DTYPE_F16, {2}, h.data(), 4});
  TempDir dir;
  g.write(dir.file("orig.gguf"));
  std::string original = read_bytes(dir.file("orig.gguf"));
  Outcome out = mutate(original, dir.file("m.gguf"), read_gguf, 4);
  MESSAGE("gguf: " << out.ok << " read, " << out.refused << " refused");
  CHECK(out.refused > 0);
}
