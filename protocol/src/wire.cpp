#include "capf/protocol/wire.hpp"

#include <algorithm>
#include <array>

#include "wire_detail.hpp"

namespace capf::protocol {

namespace {

constexpr std::array<const char*, 24> kCommandNames = {
    nullptr,
    "AUTH_REQUEST",
    "AUTH_RESPONSE",
    "KEY_GENERATE_REQUEST",
    "KEY_GENERATE_RESPONSE",
    "ENCRYPT_RESPONSE",
    "ENCRYPT_REQUEST",
    "DECRYPT_REQUEST",
    "DECRYPT_RESPONSE",
    "STORE_CERTIFICATE_REQUEST",
    "STORE_CERTIFICATE_RESPONSE",
    "FETCH_CERTIFICATE_REQUEST",
    "FETCH_CERTIFICATE_RESPONSE",
    "DELETE_CERTIFICATE_REQUEST",
    "DELETE_CERTIFICATE_RESPONSE",
    "END_SESSION",
    "RETRY_LATER",
    "REQUEST_IN_PROGRESS",
    "STATUS_REQUEST",
    "STATUS_RESPONSE",
    "ABORT_REQUEST",
    "ABORT_RESPONSE",
    "SIGN_CERTIFICATE_REQUEST",
    "SIGN_CERTIFICATE_RESPONSE",
};

// Tags 14 and 15 are undefined in every source, hence the gaps.
constexpr std::array<const char*, 23> kTagNames = {
    nullptr,       "REASON",    "REASON_INFO", "CERTIFICATE_TYPE", "CERTIFICATE", "CERTIFICATE_ID", "SIGNED_DATA",
    "VERSION",     "AUTH_TYPE", "PUBLIC_KEY",  "KEY_SIZE",         "PASSWORD",    "RETRY_DELAY",    "DEVICE_NAME",
    nullptr,       nullptr,     "SUDI_DATA",   "KEY_TYPE",         "CURVE",       "DIGEST_TYPE",    "SHA2_SIGNED_DATA",
    "CSR_SUBJECT", "CSR",
};

Error protocol_error(std::string message) {
  return make_error(Errc::protocol, std::move(message));
}

// The u16 length fields cap what the wire can carry whatever the configured limits say.
constexpr std::size_t kWireMax = 0xFFFF;

std::string element_label(std::size_t index, std::uint8_t tag) {
  return "element " + std::to_string(index) + " (tag " + std::to_string(tag) + ")";
}

}  // namespace

namespace detail {

std::string hex_byte(std::uint8_t b) {
  static const char* const kDigits = "0123456789abcdef";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 0x0f];
}

}  // namespace detail

std::string command_name(std::uint8_t command) {
  if (command < kCommandNames.size() && kCommandNames[command] != nullptr) return kCommandNames[command];
  return "COMMAND_" + std::to_string(command);
}

std::string tag_name(std::uint8_t tag) {
  if (tag < kTagNames.size() && kTagNames[tag] != nullptr) return kTagNames[tag];
  return "TAG_" + std::to_string(tag);
}

// ---- Message ----

const Element* Message::find(Tag tag) const {
  for (const auto& e : elements) {
    if (e.tag == static_cast<std::uint8_t>(tag)) return &e;
  }
  return nullptr;
}

std::optional<std::uint8_t> Message::u8(Tag tag) const {
  const Element* e = find(tag);
  if (e == nullptr || e->value.size() != 1) return std::nullopt;
  return e->value[0];
}

std::optional<std::uint16_t> Message::u16(Tag tag) const {
  const Element* e = find(tag);
  if (e == nullptr || e->value.size() != 2) return std::nullopt;
  return detail::read_u16(e->value.data());
}

std::optional<std::string> Message::str(Tag tag) const {
  const Element* e = find(tag);
  if (e == nullptr) return std::nullopt;
  std::string s(e->value.begin(), e->value.end());
  if (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

Message& Message::add_u8(Tag tag, std::uint8_t v) {
  elements.push_back(Element{static_cast<std::uint8_t>(tag), Bytes{v}});
  return *this;
}

Message& Message::add_u16(Tag tag, std::uint16_t v) {
  Bytes value;
  detail::put_u16(value, v);
  elements.push_back(Element{static_cast<std::uint8_t>(tag), std::move(value)});
  return *this;
}

Message& Message::add_string(Tag tag, std::string_view s) {
  Bytes value(s.begin(), s.end());
  value.push_back(0);
  elements.push_back(Element{static_cast<std::uint8_t>(tag), std::move(value)});
  return *this;
}

Message& Message::add_bytes(Tag tag, ByteView v) {
  elements.push_back(Element{static_cast<std::uint8_t>(tag), Bytes(v.begin(), v.end())});
  return *this;
}

// ---- encoding ----

Result<Bytes> encode(const Message& m, const Limits& limits) {
  if (m.elements.size() > limits.max_elements) {
    return protocol_error("encode " + command_name(m.command) + ": " + std::to_string(m.elements.size()) +
                          " elements exceed limit " + std::to_string(limits.max_elements));
  }
  std::size_t body = 0;
  for (std::size_t i = 0; i < m.elements.size(); ++i) {
    const Element& e = m.elements[i];
    std::size_t limit = std::min(limits.max_element, kWireMax);
    if (e.value.size() > limit) {
      return protocol_error("encode " + command_name(m.command) + ": " + element_label(i + 1, e.tag) + " length " +
                            std::to_string(e.value.size()) + " exceeds limit " + std::to_string(limit));
    }
    body += 3 + e.value.size();
  }
  std::size_t body_limit = std::min(limits.max_body, kWireMax);
  if (body > body_limit) {
    return protocol_error("encode " + command_name(m.command) + ": body length " + std::to_string(body) +
                          " exceeds limit " + std::to_string(body_limit));
  }
  Bytes out;
  out.reserve(kHeaderSize + body);
  out.push_back(kProtocolId);
  out.push_back(m.command);
  detail::put_u32(out, m.session_id);
  detail::put_u16(out, static_cast<std::uint16_t>(body));
  for (const Element& e : m.elements) {
    out.push_back(e.tag);
    detail::put_u16(out, static_cast<std::uint16_t>(e.value.size()));
    out.insert(out.end(), e.value.begin(), e.value.end());
  }
  return out;
}

// ---- decoding ----

Result<Header> decode_header(ByteView header8, const Limits& limits) {
  if (header8.size() < kHeaderSize) {
    return protocol_error("truncated header: " + std::to_string(header8.size()) + " of " + std::to_string(kHeaderSize) +
                          " bytes");
  }
  if (header8[0] != kProtocolId) return protocol_error("bad protocol id " + detail::hex_byte(header8[0]));
  Header h;
  h.command = header8[1];
  h.session_id = detail::read_u32(header8.data() + 2);
  h.body_length = detail::read_u16(header8.data() + 6);
  if (h.body_length > limits.max_body) {
    return protocol_error("body length " + std::to_string(h.body_length) + " exceeds limit " +
                          std::to_string(limits.max_body));
  }
  return h;
}

Result<std::vector<Element>> decode_elements(ByteView body, const Limits& limits) {
  std::vector<Element> elements;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t index = elements.size() + 1;
    if (elements.size() >= limits.max_elements) {
      return protocol_error("element " + std::to_string(index) + " exceeds limit of " +
                            std::to_string(limits.max_elements) + " elements");
    }
    std::size_t left = body.size() - pos;
    if (left < 3) {
      return protocol_error("element " + std::to_string(index) + " header truncated (" + std::to_string(left) +
                            " bytes left, 3 needed)");
    }
    std::uint8_t tag = body[pos];
    std::size_t length = detail::read_u16(body.data() + pos + 1);
    pos += 3;
    left -= 3;
    if (length > limits.max_element) {
      return protocol_error(element_label(index, tag) + " length " + std::to_string(length) + " exceeds limit " +
                            std::to_string(limits.max_element));
    }
    if (length > left) {
      return protocol_error(element_label(index, tag) + " length " + std::to_string(length) +
                            " runs past end of body (" + std::to_string(left) + " bytes left)");
    }
    elements.push_back(Element{tag, Bytes(body.begin() + pos, body.begin() + pos + length)});
    pos += length;
  }
  return elements;
}

Result<Message> decode_one(ByteView bytes, const Limits& limits) {
  auto header = decode_header(bytes, limits);
  if (!header) return header.error();
  std::size_t total = kHeaderSize + header->body_length;
  if (bytes.size() < total) {
    return protocol_error("truncated body: " + std::to_string(bytes.size() - kHeaderSize) + " of " +
                          std::to_string(header->body_length) + " bytes");
  }
  if (bytes.size() > total) {
    return protocol_error(std::to_string(bytes.size() - total) + " trailing bytes after a " + std::to_string(total) +
                          "-byte message");
  }
  auto elements = decode_elements(bytes.subspan(kHeaderSize), limits);
  if (!elements) return elements.error();
  Message m;
  m.command = header->command;
  m.session_id = header->session_id;
  m.elements = std::move(*elements);
  return m;
}

// ---- Decoder ----

void Decoder::feed(ByteView bytes) {
  // A failed stream is never resynchronised, so holding on to more input is pointless.
  if (failed()) return;
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::size_t Decoder::bytes_wanted() const {
  if (failed()) return 0;
  std::size_t have = buffered();
  if (have < kHeaderSize) return kHeaderSize - have;
  auto header = decode_header(ByteView(buffer_).subspan(offset_, kHeaderSize), limits_);
  if (!header) return 0;  // next() reports it
  std::size_t total = kHeaderSize + header->body_length;
  return have >= total ? 0 : total - have;
}

Decoder::Output Decoder::next() {
  Output out;
  if (failed()) {
    out.status = Status::error;
    out.error = error_;
    return out;
  }
  std::size_t have = buffered();
  if (have < kHeaderSize) return out;
  ByteView pending = ByteView(buffer_).subspan(offset_);
  auto header = decode_header(pending.first(kHeaderSize), limits_);
  if (!header) {
    error_ = header.error().message;
  } else {
    std::size_t total = kHeaderSize + header->body_length;
    if (have < total) return out;
    auto elements = decode_elements(pending.subspan(kHeaderSize, header->body_length), limits_);
    if (!elements) {
      error_ = elements.error().message;
    } else {
      out.status = Status::message;
      out.message.command = header->command;
      out.message.session_id = header->session_id;
      out.message.elements = std::move(*elements);
      offset_ += total;
    }
  }
  if (failed()) {
    // Release the unread input: nothing more will be decoded from this stream.
    buffer_.clear();
    buffer_.shrink_to_fit();
    offset_ = 0;
    out.status = Status::error;
    out.error = error_;
    return out;
  }
  // Compact lazily: moving the tail on every message would be quadratic when a caller feeds
  // many messages at once, while never compacting would grow the buffer for the whole session.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
  // One oversized feed must not pin its capacity for the rest of a long session.
  if (buffer_.capacity() > 4 * (kHeaderSize + limits_.max_body) && buffer_.size() < buffer_.capacity() / 4) {
    buffer_.shrink_to_fit();
  }
  return out;
}

}  // namespace capf::protocol
