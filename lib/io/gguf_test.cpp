// GGUF v3: write -> read round trip of every value type and tensor dtype, the exact bytes of a
// small file, determinism (and .bin vs .safetensors giving identical files), typed accessors,
// and one test per kind of bad file.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "io/gguf.hpp"
#include "io/io_test_support.hpp"
#include "io/safetensors.hpp"
#include "io/torch_checkpoint.hpp"
#include "test_support.hpp"  // shared_path

using namespace bert::io;
using namespace bert::io::test;

namespace {

template <class T>
std::string le(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}
std::string gstr(const std::string& s) {
  return le<uint64_t>(s.size()) + s;
}

// Bytes of a small file written by hand from the spec, with the given version and tensor offset.
// Layout: header 0-24, key 24-49, its type 49-53 and value 53-57, tensor name 57-66, n_dims 66-70,
// ne 70-86, ggml type 86-90, offset 90-98, padding to 128, data 128-152, padding to 160. With
// `checksum`, the writer's checksum key follows the first key (and everything after moves).
std::string handmade(uint32_t version = 3, uint64_t offset = 0, uint32_t n_dims = 2, bool checksum = false) {
  std::string s = "GGUF" + le<uint32_t>(version) + le<uint64_t>(1) + le<uint64_t>(checksum ? 2 : 1);
  s += gstr("general.alignment") + le<uint32_t>(4) + le<uint32_t>(32);
  if (checksum) {
    std::string data;
    for (int i = 0; i < 6; ++i) data += le<float>(float(i));
    s += gstr(kGgufChecksumKey) + le<uint32_t>(9) + le<uint32_t>(10) + le<uint64_t>(1) +
         le<uint64_t>(XXH3_64bits(data.data(), data.size()));
  }
  s += gstr("w") + le<uint32_t>(n_dims) + le<int64_t>(3) + le<int64_t>(2) + le<uint32_t>(0) +
       le<uint64_t>(offset);
  s.resize((s.size() + 31) / 32 * 32, '\0');
  for (int i = 0; i < 6; ++i) s += le<float>(float(i));
  s.resize((s.size() + 31) / 32 * 32, '\0');
  return s;
}

std::string error_reading(const std::string& path) {
  std::string msg = error_of([&] { GgufFile f(path); });
  CHECK_CONTAINS(msg, path);
  return msg;
}

}  // namespace

TEST_CASE("round trip: every value type, arrays of each, tensors of each dtype") {
  TempDir dir;
  std::string path = dir.file("model.gguf");
  std::vector<float> w = {0, 1, 2, 3, 4, 5};
  std::vector<uint16_t> h = {0x3c00, 0x7e01, 0x8001, 0x7bff};
  std::vector<uint16_t> bf = {0x3f80, 0xff80};
  std::vector<int8_t> i8 = {-128, 127, 0};
  std::vector<int16_t> i16 = {-2};
  std::vector<int32_t> i32 = {INT32_MIN, INT32_MAX};
  std::vector<int64_t> i64 = {INT64_MIN, 0, INT64_MAX};
  std::vector<double> f64 = {0.1};
  {
    GgufWriter g(64);
    g.set<uint8_t>("k.u8", 255);
    g.set<int8_t>("k.i8", -128);
    g.set<uint16_t>("k.u16", 65535);
    g.set<int16_t>("k.i16", -32768);
    g.set<uint32_t>("k.u32", 4000000000u);
    g.set<int32_t>("k.i32", -2000000000);
    g.set<uint64_t>("k.u64", UINT64_MAX);
    g.set<int64_t>("k.i64", INT64_MIN);
    g.set<float>("k.f32", 1e-12f);
    g.set<double>("k.f64", -1.5e300);
    g.set<bool>("k.true", true);
    g.set<bool>("k.false", false);
    g.set<std::string>("k.str", std::string("bert \"é\" \0 end", 15));
    g.set("k.empty", "");
    g.set_array<uint8_t>("a.u8", {1, 2, 255});
    g.set_array<int8_t>("a.i8", {-1});
    g.set_array<uint16_t>("a.u16", {7, 8});
    g.set_array<int16_t>("a.i16", {-7});
    g.set_array<uint32_t>("a.u32", {1, 2, 3});
    g.set_array<int32_t>("a.i32", {-1, 0, 1});
    g.set_array<uint64_t>("a.u64", {UINT64_MAX});
    g.set_array<int64_t>("a.i64", {INT64_MIN, 5});
    g.set_array<float>("a.f32", {0.5f, -0.25f});
    g.set_array<double>("a.f64", {1e-300});
    g.set_array<bool>("a.bool", {true, false, true});
    g.set_array<std::string>("a.str", {"[PAD]", "", "##ing", "日本"});
    g.set_array<uint32_t>("a.empty", {});
    g.add_tensor(
        {"bert.encoder.layer.0.attention.self.query.weight", DType::DTYPE_F32, {2, 3}, w.data(), 24});
    g.add_tensor({"h", DType::DTYPE_F16, {4}, h.data(), 8});
    g.add_tensor({"bf", DType::DTYPE_BF16, {1, 1, 2}, bf.data(), 4});
    g.add_tensor({"i8", DType::DTYPE_I8, {3}, i8.data(), 3});
    g.add_tensor({"i16", DType::DTYPE_I16, {1}, i16.data(), 2});
    g.add_tensor({"i32", DType::DTYPE_I32, {2}, i32.data(), 8});
    g.add_tensor({"position_ids", DType::DTYPE_I64, {1, 3}, i64.data(), 24});
    g.add_tensor({"f64", DType::DTYPE_F64, {1, 1, 1, 1}, f64.data(), 8});
    g.add_tensor({"empty", DType::DTYPE_F32, {0, 4}, nullptr, 0});
    g.write(path);
  }
  GgufFile f(path);
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 64);
  CHECK(f.kvs().size() == 29);  // 27 set, general.alignment, the checksums
  CHECK(f.kvs().front().key == "general.alignment");  // written first
  CHECK(f.get<uint8_t>("k.u8") == 255);
  CHECK(f.get<int8_t>("k.i8") == -128);
  CHECK(f.get<uint16_t>("k.u16") == 65535);
  CHECK(f.get<int16_t>("k.i16") == -32768);
  CHECK(f.get_u32("k.u32") == 4000000000u);
  CHECK(f.get<int32_t>("k.i32") == -2000000000);
  CHECK(f.get<uint64_t>("k.u64") == UINT64_MAX);
  CHECK(f.get<int64_t>("k.i64") == INT64_MIN);
  CHECK(f.get_f32("k.f32") == 1e-12f);
  CHECK(f.get<double>("k.f64") == -1.5e300);
  CHECK(f.get_bool("k.true"));
  CHECK(!f.get_bool("k.false"));
  CHECK(f.get_string("k.str") == std::string("bert \"é\" \0 end", 15));
  CHECK(f.get_string("k.empty").empty());
  CHECK(f.get_array<uint8_t>("a.u8") == std::vector<uint8_t>{1, 2, 255});
  CHECK(f.get_array<int8_t>("a.i8") == std::vector<int8_t>{-1});
  CHECK(f.get_array<uint16_t>("a.u16") == std::vector<uint16_t>{7, 8});
  CHECK(f.get_array<int16_t>("a.i16") == std::vector<int16_t>{-7});
  CHECK(f.get_array<uint32_t>("a.u32") == std::vector<uint32_t>{1, 2, 3});
  CHECK(f.get_array<int32_t>("a.i32") == std::vector<int32_t>{-1, 0, 1});
  CHECK(f.get_array<uint64_t>("a.u64") == std::vector<uint64_t>{UINT64_MAX});
  CHECK(f.get_array<int64_t>("a.i64") == std::vector<int64_t>{INT64_MIN, 5});
  CHECK(f.get_array<float>("a.f32") == std::vector<float>{0.5f, -0.25f});
  CHECK(f.get_array<double>("a.f64") == std::vector<double>{1e-300});
  CHECK(f.get_array<bool>("a.bool") == std::vector<bool>{true, false, true});
  CHECK(f.get_string_array("a.str") == std::vector<std::string>{"[PAD]", "", "##ing", "日本"});
  CHECK(f.get_array<uint32_t>("a.empty").empty());
  CHECK(f.get_optional<uint32_t>("k.u32") == 4000000000u);
  CHECK(!f.get_optional<uint32_t>("absent").has_value());
  CHECK(!f.get_optional<std::string>("absent").has_value());

  REQUIRE(f.tensors().tensors().size() == 9);
  auto check_tensor = [&](const std::string& name, DType dt, std::vector<int64_t> shape, const void* data) {
    const TensorData* t = f.tensors().find(name);
    REQUIRE_MESSAGE(t, name);
    CHECK(t->dtype == dt);
    CHECK(t->shape == shape);
    CHECK(reinterpret_cast<uintptr_t>(t->data) % 64 == 0);  // aligned in the map
    if (t->nbytes) CHECK(std::memcmp(t->data, data, t->nbytes) == 0);
  };
  check_tensor("bert.encoder.layer.0.attention.self.query.weight", DType::DTYPE_F32, {2, 3}, w.data());
  check_tensor("h", DType::DTYPE_F16, {4}, h.data());
  check_tensor("bf", DType::DTYPE_BF16, {1, 1, 2}, bf.data());
  check_tensor("i8", DType::DTYPE_I8, {3}, i8.data());
  check_tensor("i16", DType::DTYPE_I16, {1}, i16.data());
  check_tensor("i32", DType::DTYPE_I32, {2}, i32.data());
  check_tensor("position_ids", DType::DTYPE_I64, {1, 3}, i64.data());
  check_tensor("f64", DType::DTYPE_F64, {1, 1, 1, 1}, f64.data());
  check_tensor("empty", DType::DTYPE_F32, {0, 4}, nullptr);
  CHECK(f.tensors().tensors()[1].name == "h");  // directory order
  CHECK(read_bytes(path).size() % 64 == 0);     // the last tensor is padded too

  CHECK(f.format_value(*f.find("k.u32")) == "4000000000");
  CHECK(f.format_value(*f.find("k.f32")) == "1e-12");
  CHECK(f.format_value(*f.find("k.true")) == "true");
  CHECK(f.format_value(*f.find("a.str")) == R"(["[PAD]", "", "##ing", "日本"])");
  CHECK(f.format_value(*f.find("a.u32"), 2) == "[1, 2, ... (3 items)]");
}

TEST_CASE("the writer's bytes are those of the spec, and a handmade file reads") {
  TempDir dir;
  std::vector<float> w = {0, 1, 2, 3, 4, 5};
  GgufWriter g(32);
  g.add_tensor({"w", DType::DTYPE_F32, {2, 3}, w.data(), 24});  // PyTorch [2, 3] -> ne = {3, 2}
  g.write(dir.file("a.gguf"));
  CHECK(read_bytes(dir.file("a.gguf")) == handmade(3, 0, 2, /*checksum=*/true));
  CHECK(GgufFile(dir.file("a.gguf")).verify_checksums() == 1);

  write_bytes(dir.file("b.gguf"), handmade());
  GgufFile f(dir.file("b.gguf"));
  REQUIRE(f.tensors().find("w"));
  CHECK(f.tensors().find("w")->shape == std::vector<int64_t>{2, 3});
  CHECK(to_f32(*f.tensors().find("w")) == w);
}

TEST_CASE("same input, same bytes; .bin and .safetensors give identical files") {
  TensorArchive st =
      read_safetensors(bert::test::shared_path("fixtures/tiny-uncased-mlm/model.safetensors").string());
  TensorArchive bin =
      read_torch_checkpoint(bert::test::shared_path("fixtures/tiny-uncased-mlm/pytorch_model.bin").string());
  auto write = [&](const TensorArchive& ar, const std::string& path) {
    GgufWriter g(64);
    g.set("general.architecture", "bert");
    g.set<uint32_t>("bert.block_count", 2);
    std::vector<std::string> names;
    for (const auto& t : st.tensors()) names.push_back(t.name);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) g.add_tensor(*ar.find(n));
    g.write(path);
  };
  TempDir dir;
  write(st, dir.file("a.gguf"));
  write(st, dir.file("b.gguf"));
  write(bin, dir.file("c.gguf"));
  std::string a = read_bytes(dir.file("a.gguf"));
  CHECK(a == read_bytes(dir.file("b.gguf")));
  CHECK(a == read_bytes(dir.file("c.gguf")));
  GgufFile f(dir.file("c.gguf"));
  CHECK(f.tensors().tensors().size() == 42);
}

TEST_CASE("typed access names the key on absence and type mismatch") {
  TempDir dir;
  GgufWriter g;
  g.set<int32_t>("bert.block_count", 2);
  g.set_array<std::string>("tokenizer.ggml.tokens", {"a"});
  g.write(dir.file("m.gguf"));
  GgufFile f(dir.file("m.gguf"));
  std::string path = dir.file("m.gguf");
  CHECK(error_of([&] { f.get_u32("bert.block_count"); }) ==
        path + ": key 'bert.block_count' is i32, expected u32");
  CHECK(error_of([&] { f.get_u32("bert.nothing"); }) == path + ": key 'bert.nothing' is missing");
  CHECK(error_of([&] { f.get_string("tokenizer.ggml.tokens"); }) ==
        path + ": key 'tokenizer.ggml.tokens' is an array of string, expected string");
  CHECK(error_of([&] { f.get_array<uint32_t>("tokenizer.ggml.tokens"); }) ==
        path + ": key 'tokenizer.ggml.tokens' is an array of string, expected an array of u32");
  CHECK_CONTAINS(error_of([&] { f.get_optional<float>("bert.block_count"); }), "is i32, expected f32");
}

TEST_CASE("the writer refuses what other GGUF readers cannot read") {
  float v[5] = {};
  GgufWriter g;
  CHECK_CONTAINS(error_of([&] {
                   g.add_tensor({std::string(64, 'x'), DType::DTYPE_F32, {1}, v, 4});
                 }),
                 "GGUF allows at most 63");
  CHECK_CONTAINS(error_of([&] {
                   g.add_tensor({"t", DType::DTYPE_F32, {1, 1, 1, 1, 1}, v, 4});
                 }),
                 "tensor 't' has 5 dimensions");
  CHECK_CONTAINS(error_of([&] {
                   g.add_tensor({"t", DType::DTYPE_BOOL, {1}, v, 1});
                 }),
                 "tensor 't' has dtype BOOL, which GGUF cannot store");
  g.add_tensor({"t", DType::DTYPE_F32, {1}, v, 4});
  CHECK_CONTAINS(error_of([&] {
                   g.add_tensor({"t", DType::DTYPE_F32, {1}, v, 4});
                 }),
                 "tensor 't' added twice");
  CHECK_CONTAINS(error_of([&] { g.set<uint32_t>("general.alignment", 8); }, bert::ErrorKind::ERROR_INTERNAL),
                 "key 'general.alignment' set twice");
}

// ---- bad inputs, one each ----

TEST_CASE("bad: missing file") {
  TempDir dir;
  std::string msg = error_of([&] { GgufFile f(dir.file("none.gguf")); }, bert::ErrorKind::ERROR_IO);
  CHECK(msg == "cannot open " + dir.file("none.gguf") + ": No such file or directory");
}

TEST_CASE("bad: magic") {
  TempDir dir;
  std::string bytes = handmade();
  bytes[3] = 'X';
  write_bytes(dir.file("m.gguf"), bytes);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "not a GGUF file (magic 'GGUX', expected 'GGUF')");
  write_bytes(dir.file("m.gguf"), "GG");
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "not a GGUF file (magic 'GG', expected 'GGUF')");
}

TEST_CASE("bad: version 2") {
  TempDir dir;
  write_bytes(dir.file("m.gguf"), handmade(2));
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")),
                 "GGUF version 2 is not supported (this reader supports version 3)");
}

TEST_CASE("bad: big-endian file") {
  TempDir dir;
  write_bytes(dir.file("m.gguf"), handmade(0x03000000));
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "a big-endian GGUF file");
}

TEST_CASE("bad: tensor data beyond the end of the file") {
  TempDir dir;
  std::string bytes = handmade();
  write_bytes(dir.file("m.gguf"), bytes.substr(0, 140));  // the data starts at 128 and is 24 bytes
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")),
                 "tensor 'w' data [0, 24) lies beyond the end of the file (12 data bytes after offset 128)");
  write_bytes(dir.file("m.gguf"), handmade(3, 1u << 20));
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "tensor 'w' data [1048576, 1048600) lies beyond the end");
}

TEST_CASE("bad: misaligned tensor offset") {
  TempDir dir;
  write_bytes(dir.file("m.gguf"), handmade(3, 4));
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")),
                 "tensor 'w' data offset 4 is not a multiple of the alignment 32");
}

TEST_CASE("bad: too many dimensions") {
  TempDir dir;
  write_bytes(dir.file("m.gguf"), handmade(3, 0, 9));
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "tensor 'w' has 9 dimensions (at most 4)");
}

TEST_CASE("bad: header cut short, absurd counts, string beyond the file") {
  TempDir dir;
  std::string bytes = handmade();
  write_bytes(dir.file("m.gguf"), bytes.substr(0, 60));  // inside the tensor directory
  CHECK_CONTAINS(
      error_reading(dir.file("m.gguf")),
      "name of tensor 0 length at byte 57 needs 8 bytes but the file ends after 3; the file is truncated");
  std::string counts = bytes;
  counts.replace(16, 8, le<uint64_t>(uint64_t(1) << 60));
  write_bytes(dir.file("m.gguf"), counts);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "more than a 160-byte file can hold");
  std::string key = bytes;
  key.replace(24, 8, le<uint64_t>(1000));  // length of the first key
  write_bytes(dir.file("m.gguf"), key);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "key 0 at byte 32 needs 1000 bytes");
}

TEST_CASE("bad: unknown value type, duplicate key, unsupported tensor type, bad alignment") {
  TempDir dir;
  std::string bytes = handmade();
  std::string type = bytes;
  type.replace(49, 4, le<uint32_t>(13));
  write_bytes(dir.file("m.gguf"), type);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "key 'general.alignment' has unknown value type 13");

  std::string two = "GGUF" + le<uint32_t>(3) + le<uint64_t>(0) + le<uint64_t>(2) + gstr("a") +
                    le<uint32_t>(0) + "x" + gstr("a") + le<uint32_t>(0) + "y";
  write_bytes(dir.file("m.gguf"), two);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "key 'a' appears twice");

  std::string q4 = bytes;
  q4.replace(86, 4, le<uint32_t>(2));  // ggml type Q4_0
  write_bytes(dir.file("m.gguf"), q4);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")),
                 "tensor 'w' has ggml type 2, which bertctl does not support");

  std::string align = bytes;
  align.replace(53, 4, le<uint32_t>(24));
  write_bytes(dir.file("m.gguf"), align);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "general.alignment 24 is not a power of two");
}

TEST_CASE("bad: overlapping tensors") {
  TempDir dir;
  std::vector<float> w(8, 1.0f);
  GgufWriter g;
  g.add_tensor({"a", DType::DTYPE_F32, {8}, w.data(), 32});
  g.add_tensor({"b", DType::DTYPE_F32, {8}, w.data(), 32});
  g.write(dir.file("m.gguf"));
  std::string bytes = read_bytes(dir.file("m.gguf"));
  size_t second = bytes.find(gstr("b"));
  REQUIRE(second != std::string::npos);
  bytes.replace(second + 9 + 4 + 8 + 4, 8, le<uint64_t>(0));  // b's offset := a's
  write_bytes(dir.file("m.gguf"), bytes);
  CHECK_CONTAINS(error_reading(dir.file("m.gguf")), "tensors 'a' and 'b' overlap");
}

TEST_CASE("checksums: a changed byte of a tensor is found and named; files without them still read") {
  TempDir dir;
  std::vector<float> w = {0, 1, 2, 3, 4, 5}, b = {7, 8};
  GgufWriter g(32);
  g.add_tensor({"w", DType::DTYPE_F32, {2, 3}, w.data(), 24});
  g.add_tensor({"b", DType::DTYPE_F32, {2}, b.data(), 8});
  g.write(dir.file("a.gguf"));
  CHECK(GgufFile(dir.file("a.gguf")).verify_checksums() == 2);
  std::string bytes = read_bytes(dir.file("a.gguf"));
  bytes[bytes.size() - 32] ^= 1;  // the first byte of b's data (the last aligned block)
  write_bytes(dir.file("a.gguf"), bytes);
  GgufFile f(dir.file("a.gguf"));  // the structure is still fine
  CHECK(error_of([&] { f.verify_checksums(); }) ==
        dir.file("a.gguf") + ": tensor 'b' does not match its checksum: the file is corrupt (or was edited)");
  write_bytes(dir.file("old.gguf"), handmade());
  CHECK_FALSE(GgufFile(dir.file("old.gguf")).has_checksums());
  CHECK(GgufFile(dir.file("old.gguf")).verify_checksums() == 0);
}

TEST_CASE("general.alignment must be a power of two of at least 8 (an edited 1 shifted every tensor)") {
  TempDir dir;
  std::string bytes = handmade();
  bytes[53] = 1;  // the u32 value of general.alignment
  write_bytes(dir.file("a.gguf"), bytes);
  CHECK_CONTAINS(error_reading(dir.file("a.gguf")), "general.alignment 1 is not a power of two of at least 8");
}
