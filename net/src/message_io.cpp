#include "capf/net/message_io.hpp"

#include <array>

#include "capf/net/spawn.hpp"

namespace capf::net {

awaitable<protocol::Message> read_message(TlsStream& stream, const protocol::Limits& limits) {
  std::array<std::uint8_t, protocol::kHeaderSize> header{};
  co_await asio::async_read(stream, asio::buffer(header), asio::use_awaitable);
  auto h = protocol::decode_header(header, limits);
  if (!h) throw ProtocolError(h.error().message);
  std::vector<std::uint8_t> whole(protocol::kHeaderSize + h->body_length);
  std::copy(header.begin(), header.end(), whole.begin());
  if (h->body_length > 0)
    co_await asio::async_read(stream, asio::buffer(whole.data() + protocol::kHeaderSize, h->body_length),
                              asio::use_awaitable);
  auto m = protocol::decode_one(whole, limits);
  if (!m) throw ProtocolError(m.error().message);
  co_return std::move(m).value();
}

awaitable<void> write_message(TlsStream& stream, const protocol::Message& m) {
  auto bytes = protocol::encode(m);
  if (!bytes) throw ProtocolError(bytes.error().message);
  co_await asio::async_write(stream, asio::buffer(*bytes), asio::use_awaitable);
}

Watchdog::Watchdog(TlsStream& stream) : stream_(stream), timer_(stream.get_executor()) {
  deadline_ = std::chrono::steady_clock::time_point::max();
}

void Watchdog::start(std::shared_ptr<void> owner) {
  spawn(stream_.get_executor(), loop(std::move(owner)), "session", "a connection watchdog");
}

void Watchdog::arm(std::chrono::steady_clock::duration timeout, std::string what) {
  deadline_ = std::chrono::steady_clock::now() + timeout;
  step_ = std::move(what);
  timer_.cancel();  // wake the loop so it re-reads the deadline
}

void Watchdog::stop() {
  stopped_ = true;
  timer_.cancel();
}

awaitable<void> Watchdog::loop(std::shared_ptr<void> owner) {
  while (!stopped_) {
    timer_.expires_at(deadline_);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;
    if (std::chrono::steady_clock::now() >= deadline_) {
      fired_ = true;
      boost::system::error_code ignored;
      stream_.lowest_layer().cancel(ignored);
      stream_.lowest_layer().close(ignored);
      break;
    }
  }
}

}  // namespace capf::net
