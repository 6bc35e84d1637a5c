// How many threads to use by default: the number of physical cores (hyper-threads share one
// core's FMA units, so counting them only adds contention for matmul-bound work).
#pragma once

namespace bert {

int physical_cores();

}  // namespace bert
