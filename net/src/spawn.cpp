#include "capf/net/spawn.hpp"

namespace capf::net {

void run_io(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (...) {
      util::report_contained("io", "an io_context handler", std::current_exception());
    }
  }
}

}  // namespace capf::net
