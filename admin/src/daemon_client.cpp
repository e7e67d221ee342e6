#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "capf/admin/http.hpp"

namespace capf::admin {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

Result<std::optional<Response>> call_daemon(const std::string& socket_path, const std::string& token,
                                            const Request& request) {
  asio::io_context io;
  local::socket socket(io);
  boost::system::error_code ec;
  socket.connect(local::endpoint(socket_path), ec);
  if (ec == asio::error::connection_refused || ec == asio::error::not_found ||
      ec == boost::system::errc::no_such_file_or_directory)
    return std::optional<Response>{};
  if (ec) return make_error(Errc::unavailable, "cannot reach the daemon at " + socket_path + ": " + ec.message());

  http::request<http::string_body> req{request.method == "POST" ? http::verb::post : http::verb::get, request.target,
                                       11};
  req.set(http::field::host, "capf");
  req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::content_type, "application/octet-stream");
  req.body() = request.body;
  req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return make_error(Errc::unavailable, "sending to the daemon failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024ull * 1024 * 1024);
  http::read(socket, buffer, parser, ec);
  if (ec) return make_error(Errc::unavailable, "reading the daemon's answer failed: " + ec.message());
  auto res = parser.release();
  Response out;
  out.status = static_cast<int>(res.result_int());
  const auto type = std::string(res[http::field::content_type]);
  if (!type.empty() && type.rfind("application/json", 0) != 0) {
    out.content_type = type;
    out.text = std::move(res.body());
    return std::optional<Response>{std::move(out)};
  }
  out.body = nlohmann::json::parse(res.body(), nullptr, false);
  if (out.body.is_discarded()) return make_error(Errc::protocol, "the daemon answered with something that is not JSON");
  return std::optional<Response>{std::move(out)};
}

}  // namespace capf::admin
