// safetensors: the fixtures, a bit-exact write/read round trip, byte-identical rewriting of a file
// written by the Python library, sharded checkpoints, and one test per kind of bad file.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "io/io_test_support.hpp"
#include "io/safetensors.hpp"
#include "test_support.hpp"  // shared_path

using namespace bert::io;
using namespace bert::io::test;

namespace {

std::string fixture(const std::string& rel) {
  return bert::test::shared_path("fixtures/" + rel).string();
}

// A safetensors file from a header text and a data blob.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string write_file(const TempDir& dir, const std::string& header, const std::string& data) {
  std::string path = dir.file("model.safetensors");
  write_bytes(path, make_file(header, data));
  return path;
}

// Reading a file made of `header` and `data` fails with a message naming it and containing `expected`.
void expect_bad(const std::string& header, const std::string& data, const std::string& expected) {
  TempDir dir;
  std::string path = write_file(dir, header, data);
  std::string msg = error_of([&] { read_safetensors(path); });
  CHECK_CONTAINS(msg, path + ": ");
  CHECK_CONTAINS(msg, expected);
}

}  // namespace

TEST_CASE("fixture tiny-uncased-mlm/model.safetensors") {
  TensorArchive ar = read_safetensors(fixture("tiny-uncased-mlm/model.safetensors"));
  CHECK(ar.tensors().size() == 42);
  CHECK(ar.metadata == std::map<std::string, std::string>{{"format", "pt"}});
  const TensorData* w = ar.find("bert.embeddings.word_embeddings.weight");
  REQUIRE(w);
  CHECK(w->dtype == DType::DTYPE_F32);
  CHECK(w->shape == std::vector<int64_t>{30522, 32});
  CHECK(w->nbytes == 30522 * 32 * 4);
  CHECK(reinterpret_cast<uintptr_t>(w->data) % 4 == 0);
  CHECK(ar.find("cls.predictions.decoder.weight") == nullptr);  // tied: absent from safetensors
  CHECK(ar.find("cls.predictions.bias"));
  REQUIRE(ar.find("bert.encoder.layer.1.intermediate.dense.weight"));
  CHECK(ar.find("bert.encoder.layer.1.intermediate.dense.weight")->shape == std::vector<int64_t>{64, 32});
  // Tensors come in data order, and each one's values are finite and not all zero.
  for (const auto& t : ar.tensors()) {
    std::vector<float> v = to_f32(t);
    double sum = 0;
    for (float x : v) {
      REQUIRE(std::isfinite(x));
      sum += std::fabs(x);
    }
    CHECK_MESSAGE(sum > 0, t.name);
  }
  // LayerNorm gamma was drawn from U(0.7, 1.3) (fixtures/README.md).
  for (float g : to_f32(*ar.find("bert.embeddings.LayerNorm.weight"))) CHECK((g >= 0.7f && g <= 1.3f));
}

TEST_CASE("fixture tiny-cased-base/model.safetensors") {
  TensorArchive ar = read_safetensors(fixture("tiny-cased-base/model.safetensors"));
  CHECK(ar.tensors().size() == 55);
  const TensorData* w = ar.find("embeddings.word_embeddings.weight");  // BertModel: no "bert." prefix
  REQUIRE(w);
  CHECK(w->shape == std::vector<int64_t>{28996, 48});
  REQUIRE(ar.find("pooler.dense.weight"));
  CHECK(ar.find("pooler.dense.weight")->shape == std::vector<int64_t>{48, 48});
  REQUIRE(ar.find("encoder.layer.2.output.dense.weight"));
  CHECK(ar.find("encoder.layer.2.output.dense.weight")->shape == std::vector<int64_t>{48, 96});
}

TEST_CASE("rewriting a file written by the safetensors library gives the same bytes") {
  for (const char* rel : {"tiny-uncased-mlm/model.safetensors", "tiny-cased-base/model.safetensors",
                          "train/grads.safetensors"}) {
    std::string path = bert::test::shared_path("fixtures/" + std::string(rel)).string();
    TensorArchive ar = read_safetensors(path);
    TempDir dir;
    write_safetensors(dir.file("copy.safetensors"), ar.tensors(), ar.metadata);
    CHECK_MESSAGE(read_bytes(dir.file("copy.safetensors")) == read_bytes(path), rel);
  }
}

TEST_CASE("write -> read round trip is bit-exact for every dtype") {
  std::vector<float> f32 = {1.0f, -0.0f, std::bit_cast<float>(0x7fc12345u), INFINITY, 1e-45f, 3.14159f};
  std::vector<uint16_t> f16 = {0x3c00, 0x8001, 0x7e01};
  std::vector<uint16_t> bf16 = {0x3f80, 0xff81};
  std::vector<double> f64 = {0.1, -1e300};
  std::vector<int64_t> i64 = {INT64_MIN, 0, INT64_MAX};
  std::vector<int32_t> i32 = {-7, 7};
  std::vector<int16_t> i16 = {-300};
  std::vector<int8_t> i8 = {-128, 127};
  std::vector<uint8_t> u8 = {0, 255, 1};
  std::vector<uint8_t> boolean = {1, 0};
  float scalar = 42.0f;
  std::vector<TensorData> in = {
      {"w.f32", DType::DTYPE_F32, {2, 3}, f32.data(), f32.size() * 4},
      {"w.f16", DType::DTYPE_F16, {3}, f16.data(), f16.size() * 2},
      {"a.bf16", DType::DTYPE_BF16, {1, 2}, bf16.data(), bf16.size() * 2},
      {"z.f64", DType::DTYPE_F64, {2}, f64.data(), 16},
      {"ids", DType::DTYPE_I64, {3}, i64.data(), 24},
      {"i32", DType::DTYPE_I32, {2, 1}, i32.data(), 8},
      {"i16", DType::DTYPE_I16, {1}, i16.data(), 2},
      {"i8", DType::DTYPE_I8, {2}, i8.data(), 2},
      {"u8", DType::DTYPE_U8, {3}, u8.data(), 3},
      {"mask", DType::DTYPE_BOOL, {2}, boolean.data(), 2},
      {"scalar", DType::DTYPE_F32, {}, &scalar, 4},
      {"empty", DType::DTYPE_F32, {0, 4}, nullptr, 0},
  };
  TempDir dir;
  std::string path = dir.file("rt.safetensors");
  write_safetensors(path, in, {{"format", "pt"}, {"note", "quote \" and \\ and \n and é"}});

  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  CHECK(header.begin().key() == "__metadata__");
  // Data order: wider dtypes first (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL), then names.
  CHECK(header["ids"]["data_offsets"][0] == 0);
  CHECK(header["z.f64"]["data_offsets"][0] == 24);
  CHECK(header["empty"]["data_offsets"][0] == 40);
  CHECK(header["empty"]["data_offsets"][1] == 40);

  TensorArchive ar = read_safetensors(path);
  CHECK(ar.metadata.at("note") == "quote \" and \\ and \n and é");
  REQUIRE(ar.tensors().size() == in.size());
  CHECK(ar.tensors()[0].name == "ids");
  for (const auto& t : in) {
    const TensorData* got = ar.find(t.name);
    REQUIRE_MESSAGE(got, t.name);
    CHECK(got->dtype == t.dtype);
    CHECK(got->shape == t.shape);
    REQUIRE(got->nbytes == t.nbytes);
    if (t.nbytes) CHECK(std::memcmp(got->data, t.data, t.nbytes) == 0);
    CHECK(reinterpret_cast<uintptr_t>(got->data) % dtype_size(t.dtype) == 0);
  }
  // Same input, same bytes.
  write_safetensors(dir.file("again.safetensors"), in,
                    {{"format", "pt"}, {"note", "quote \" and \\ and \n and é"}});
  CHECK(read_bytes(dir.file("again.safetensors")) == bytes);
}

TEST_CASE("a misaligned tensor is copied to an aligned buffer") {
  TempDir dir;
  // The header is 60 bytes, so the data starts at byte 68: not a multiple of 8.
  std::string header = R"({"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})";
  header.resize(60, ' ');
  double v = 2.5;
  std::string path = write_file(dir, header, std::string(reinterpret_cast<const char*>(&v), 8));
  TensorArchive ar = read_safetensors(path);
  const TensorData* t = ar.find("x");
  REQUIRE(t);
  CHECK(reinterpret_cast<uintptr_t>(t->data) % 8 == 0);
  CHECK(*static_cast<const double*>(t->data) == 2.5);
}

TEST_CASE("sharded checkpoint through model.safetensors.index.json") {
  TensorArchive whole = read_safetensors(fixture("tiny-uncased-mlm/model.safetensors"));
  std::vector<TensorData> first, second;
  nlohmann::json weight_map;
  for (const auto& t : whole.tensors()) {
    bool a = t.name < "bert.encoder.layer.1";
    (a ? first : second).push_back(t);
    weight_map[t.name] = a ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  TempDir dir;
  write_safetensors(dir.file("model-00001-of-00002.safetensors"), first);
  write_safetensors(dir.file("model-00002-of-00002.safetensors"), second);
  nlohmann::json index = {{"metadata", {{"total_size", 123}}}, {"weight_map", weight_map}};
  write_bytes(dir.file("model.safetensors.index.json"), index.dump());

  TensorArchive ar = read_safetensors_index(dir.file("model.safetensors.index.json"));
  REQUIRE(ar.tensors().size() == whole.tensors().size());
  for (const auto& t : whole.tensors()) {
    const TensorData* got = ar.find(t.name);
    REQUIRE(got);
    CHECK(got->shape == t.shape);
    CHECK(std::memcmp(got->data, t.data, t.nbytes) == 0);
  }

  SUBCASE("a tensor missing from its shard") {
    index["weight_map"]["bert.extra.weight"] = "model-00002-of-00002.safetensors";
    write_bytes(dir.file("model.safetensors.index.json"), index.dump());
    std::string msg = error_of([&] { read_safetensors_index(dir.file("model.safetensors.index.json")); });
    CHECK_CONTAINS(msg, "'bert.extra.weight' is listed in");
  }
  SUBCASE("a shard outside the folder") {
    index["weight_map"]["bert.pooler.dense.weight"] = "../elsewhere.safetensors";
    write_bytes(dir.file("model.safetensors.index.json"), index.dump());
    std::string msg = error_of([&] { read_safetensors_index(dir.file("model.safetensors.index.json")); });
    CHECK_CONTAINS(msg, "not a file in the same folder");
  }
  SUBCASE("a tensor in two shards") {
    write_safetensors(dir.file("model-00002-of-00002.safetensors"), whole.tensors());
    std::string msg = error_of([&] { read_safetensors_index(dir.file("model.safetensors.index.json")); });
    CHECK_CONTAINS(msg, "model-00002-of-00002.safetensors: tensor '");
  }
}

// ---- bad inputs, one each ----

TEST_CASE("bad: missing file") {
  TempDir dir;
  std::string path = dir.file("nothing.safetensors");
  std::string msg = error_of([&] { read_safetensors(path); }, bert::ErrorKind::ERROR_IO);
  CHECK(msg == "cannot open " + path + ": No such file or directory");
}

TEST_CASE("bad: shorter than 8 bytes") {
  TempDir dir;
  write_bytes(dir.file("a.safetensors"), "abc");
  std::string msg = error_of([&] { read_safetensors(dir.file("a.safetensors")); });
  CHECK_CONTAINS(msg, dir.file("a.safetensors") + ": not a safetensors file: 3 bytes");
}

TEST_CASE("bad: truncated file") {
  TempDir dir;
  std::string whole = read_bytes(fixture("tiny-uncased-mlm/model.safetensors"));
  std::string path = dir.file("model.safetensors");
  write_bytes(path, whole.substr(0, whole.size() / 2));
  std::string msg = error_of([&] { read_safetensors(path); });
  CHECK_CONTAINS(msg, path + ": tensor '");
  CHECK_CONTAINS(msg, "beyond the end of the data");
}

TEST_CASE("bad: header length beyond the file") {
  TempDir dir;
  std::string bytes = make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd");
  bytes[0] = char(200);  // header length 200 in a 63-byte file
  write_bytes(dir.file("m.safetensors"), bytes);
  std::string msg = error_of([&] { read_safetensors(dir.file("m.safetensors")); });
  CHECK_CONTAINS(msg, dir.file("m.safetensors") + ": header length 200 is beyond the end of the file");
}

TEST_CASE("bad: absurd header length") {
  TempDir dir;
  std::string bytes = make_file("{}", "");
  bytes[7] = char(0x7f);  // about 9e18
  write_bytes(dir.file("m.safetensors"), bytes);
  std::string msg = error_of([&] { read_safetensors(dir.file("m.safetensors")); });
  CHECK_CONTAINS(msg, "is absurd");
}

TEST_CASE("bad: data_offsets beyond the data") {
  expect_bad(R"({"bert.pooler.dense.weight":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
             std::string(8, '\0'),
             "tensor 'bert.pooler.dense.weight' data_offsets [4, 12] beyond the end of the data (8 bytes)");
}

TEST_CASE("bad: data_offsets begin after end") {
  expect_bad(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", std::string(8, '\0'),
             "tensor 'x' data_offsets [8, 4] begin after end");
}

TEST_CASE("bad: size does not match shape and dtype") {
  expect_bad(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'),
             "tensor 'x' data_offsets [0, 8] hold 8 bytes, but F32 [3] needs 12");
}

TEST_CASE("bad: overlapping tensors") {
  expect_bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
             std::string(12, '\0'), "tensors 'a' and 'b' overlap (bytes [0, 8) and [4, 12))");
}

TEST_CASE("bad: unknown dtype") {
  expect_bad(R"({"x":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", std::string(4, '\0'),
             "tensor 'x' has unsupported dtype 'F8_E4M3'");
}

TEST_CASE("bad: header is not JSON") {
  expect_bad(R"({"x":{"dtype":"F32",,}})", "", "header is not valid JSON");
}

TEST_CASE("bad: header is not an object") {
  expect_bad("[1, 2, 3]", "", "header is not a JSON object");
}

TEST_CASE("bad: entry without data_offsets") {
  expect_bad(R"({"x":{"dtype":"F32","shape":[1]}})", std::string(4, '\0'),
             "tensor 'x' has no 'data_offsets' in the header");
}

TEST_CASE("bad: negative dimension") {
  expect_bad(R"({"x":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,4]}})", std::string(4, '\0'),
             "tensor 'x' has shape [-1,4] with a dimension that is not a non-negative integer");
}

TEST_CASE("bad: shape whose size overflows") {
  expect_bad(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
             std::string(4, '\0'), "tensor 'x' has shape [4294967296,4294967296] whose size overflows");
}

TEST_CASE("bad: __metadata__ with a non-string value") {
  expect_bad(R"({"__metadata__":{"format":3}})", "", "__metadata__ value for 'format' is not a string");
}

TEST_CASE("write_safetensors leaves no file behind when a tensor name is given twice") {
  float v = 1;
  std::vector<TensorData> twice = {{"a", DType::DTYPE_F32, {1}, &v, 4}, {"a", DType::DTYPE_F32, {1}, &v, 4}};
  TempDir dir;
  std::string msg = error_of([&] { write_safetensors(dir.file("o.safetensors"), twice); });
  CHECK_CONTAINS(msg, "tensor 'a' given twice");
  CHECK(!std::filesystem::exists(dir.file("o.safetensors")));
}

// A header nested 100,000 deep overflowed the stack (exit 139, no message) in the JSON library.
TEST_CASE("a header nested 100,000 deep is refused with a message, not a crash") {
  const std::string deep = R"({"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_bad(deep, "", "nested deeper than 64 levels");
}
