#include "common/result.h"

namespace sf {

const char* status_name(status s) noexcept {
  switch (s) {
    case status::ok: return "ok";
    case status::invalid_argument: return "invalid_argument";
    case status::parse_error: return "parse_error";
    case status::io_error: return "io_error";
    case status::corrupt: return "corrupt";
    case status::truncated: return "truncated";
    case status::unsupported: return "unsupported";
    case status::limit_exceeded: return "limit_exceeded";
    case status::out_of_memory: return "out_of_memory";
    case status::not_found: return "not_found";
  }
  return "unknown";
}

const char* status_message(status s) noexcept {
  switch (s) {
    case status::ok: return "no error";
    case status::invalid_argument: return "invalid argument";
    case status::parse_error: return "malformed text input";
    case status::io_error: return "input/output error";
    case status::corrupt: return "corrupt or foreign binary input";
    case status::truncated: return "binary input ends early";
    case status::unsupported: return "not supported by this build";
    case status::limit_exceeded: return "input exceeds a documented limit";
    case status::out_of_memory: return "out of memory";
    case status::not_found: return "not found";
  }
  return "unknown status";
}

}  // namespace sf
