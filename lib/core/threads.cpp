#include "core/threads.hpp"

#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace bert {

int physical_cores() {
  static const int cores = [] {
    long logical = ::sysconf(_SC_NPROCESSORS_ONLN);
    std::set<std::pair<int, int>> seen;  // (package, core) pairs
    for (long cpu = 0; cpu < logical; ++cpu) {
      std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
      std::ifstream core(base + "core_id"), package(base + "physical_package_id");
      int c = -1, p = -1;
      if (!(core >> c) || !(package >> p)) return int(logical > 0 ? logical : 1);
      seen.insert({p, c});
    }
    return seen.empty() ? 1 : int(seen.size());
  }();
  return cores;
}

}  // namespace bert
