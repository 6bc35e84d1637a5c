// Training data: CSV, TSV and JSONL files (the first byte picks the format and the header mode).
#include "fuzz_support.hpp"
#include "train/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bert::fuzz::MemoryFile file(data + 1, size - 1);
  bert::train::DatasetSpec spec;
  const int pick = data[0] % 3;
  spec.format = pick == 0 ? bert::train::DatasetFormat::FORMAT_CSV
                : pick == 1 ? bert::train::DatasetFormat::FORMAT_TSV
                            : bert::train::DatasetFormat::FORMAT_JSONL;
  spec.skip_bad_rows = data[0] & 8;
  spec.no_header = pick != 2 && (data[0] & 16);
  if (spec.no_header) spec.text_column = "0", spec.label_column = "1";
  bert::fuzz::refuse_or_accept([&] { bert::train::read_dataset(file.path(), spec); });
  return 0;
}
