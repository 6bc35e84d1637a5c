// The unpickler on its own (the zip layer around it rejects most mutations by CRC), with the globals
// a checkpoint may name allowed and REDUCE answering None.
#include "fuzz_support.hpp"
#include "io/pickle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bert::io::PickleHooks hooks = [] {
    bert::io::PickleHooks h;
    h.allowed_globals = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage"};
    h.reduce = [](bert::io::Unpickler& u, const bert::io::PickleValue&, const bert::io::PickleValue&) {
      return u.make(bert::io::PickleKind::PICKLE_NONE);
    };
    h.persistent_load = [](bert::io::Unpickler& u, const bert::io::PickleValue&) {
      return u.make(bert::io::PickleKind::PICKLE_NONE);
    };
    return h;
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bert::fuzz::refuse_or_accept([&] {
    bert::io::Unpickler u(bytes, "data.pkl", hooks);
    u.load();
  });
  return 0;
}
