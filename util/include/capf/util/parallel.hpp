// Runs fn(0) … fn(n-1) on the machine's cores: an offline import verifies 100,000 certificates
// this way, and the offline bench makes its phones' keys and CSRs.
#pragma once

#include <cstddef>
#include <functional>

namespace capf::util {

/// Calls fn(i) for every i < n, on up to min(cores, 8) threads, each taking the next index;
/// fewer than `per_thread` indexes per thread run on the calling thread alone. Returns once
/// every call has returned; the first exception a call threw is then rethrown.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn, std::size_t per_thread = 64);

}  // namespace capf::util
