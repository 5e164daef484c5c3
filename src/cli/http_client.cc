#include "cli/http_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <optional>

namespace vectorize::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint64_t kMaxBodyBytes = 64ull << 20;

}  // namespace

Result<BaseUrl> ParseBaseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Fail(
        Error::InvalidArgument(fmt::format("--url '{}': {} (expected e.g. http://127.0.0.1:8000 or "
                                           "http://host:8000/v1/api)",
                                           std::string(text), why)));
  };
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return bad("not an absolute URL");
  const auto& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http) {
    return bad(u.scheme_id() == boost::urls::scheme::https
                   ? "https is not supported by this client; use http:// (or a local proxy)"
                   : "the scheme must be http");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return bad("no host");
  if (u.has_userinfo()) return bad("user:password@ is not supported; use --api-key");
  if (u.has_query() || u.has_fragment()) return bad("no query or fragment allowed");
  BaseUrl out;
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = u.host_ipv6_address().to_string();
  } else {
    out.host = u.host();
  }
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) return bad("bad port");
    out.port = std::string(u.port());
  }
  out.prefix = std::string(u.encoded_path());
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  return out;
}

std::string EncodePathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Result<HttpClient> HttpClient::Create(HttpClientOptions options) {
  auto base = ParseBaseUrl(options.base_url);
  if (!base) return Fail(base.error());
  return HttpClient(std::move(*base), std::move(options));
}

Result<HttpResponse> HttpClient::Get(std::string_view target) const {
  return Send("GET", target, {});
}

Result<HttpResponse> HttpClient::Post(std::string_view target, std::string_view json_body) const {
  return Send("POST", target, json_body);
}

// Callback chain on a private io_context; one timer bounds the whole exchange, resolve included.
// Beast and Asio errors become Error values here and go no further.
Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                      std::string_view body) const {
  const std::string where = fmt::format(
      "http://{}:{}",
      base_.host.find(':') != std::string::npos ? "[" + base_.host + "]" : base_.host, base_.port);
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    asio::steady_timer deadline(ioc);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);

    http::request<http::string_body> req;
    req.method(method == "POST" ? http::verb::post : http::verb::get);
    req.target(base_.prefix + std::string(target));
    req.version(11);
    req.set(http::field::host,
            base_.port == "80" ? base_.host : fmt::format("{}:{}", base_.host, base_.port));
    req.set(http::field::user_agent, "vectorize-cli");
    req.set(http::field::accept, "application/json");
    if (!options_.api_key.empty()) {
      req.set(http::field::authorization, "Bearer " + options_.api_key);
    }
    if (req.method() == http::verb::post) {
      if (!body.empty()) req.set(http::field::content_type, "application/json");
      req.body() = std::string(body);
    }
    req.keep_alive(false);
    req.prepare_payload();

    bool timed_out = false;
    std::optional<Error> failure;
    bool done = false;
    auto fail = [&](Error e) {
      if (!failure) failure = std::move(e);
      deadline.cancel();
    };
    auto io_error = [&](std::string_view step, const boost::system::error_code& ec) {
      if (timed_out) return;  // reported below
      fail(Error::Unavailable(fmt::format("{} {}: {}", step, where, ec.message())));
    };

    deadline.expires_after(options_.timeout);
    deadline.async_wait([&](const boost::system::error_code& ec) {
      if (ec || done || failure) return;
      timed_out = true;
      resolver.cancel();
      stream.cancel();
    });

    resolver.async_resolve(
        base_.host, base_.port,
        [&](const boost::system::error_code& ec, tcp::resolver::results_type results) {
          if (ec) return io_error("cannot resolve", ec);
          stream.async_connect(
              results, [&](const boost::system::error_code& ec, const tcp::endpoint&) {
                if (ec) return io_error("cannot connect to", ec);
                http::async_write(stream, req, [&](const boost::system::error_code& ec, size_t) {
                  if (ec) return io_error("cannot send the request to", ec);
                  http::async_read(stream, buffer, parser,
                                   [&](const boost::system::error_code& ec, size_t) {
                                     if (ec) return io_error("no complete answer from", ec);
                                     done = true;
                                     deadline.cancel();
                                   });
                });
              });
        });
    ioc.run();

    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (timed_out) {
      return Fail(Error::DeadlineExceeded(
          fmt::format("no answer from {} within {:.3g}s (see --timeout)", where,
                      std::chrono::duration<double>(options_.timeout).count())));
    }
    if (failure) return Fail(*failure);
    if (!done) return Fail(Error::Internal("HTTP exchange ended without an answer"));
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::content_type); it != res.end()) {
      out.content_type = std::string(it->value());
    }
    out.body = std::move(res.body());
    return out;
  } catch (const std::exception& e) {
    return Fail(
        Error::Internal(fmt::format("HTTP client error talking to {}: {}", where, e.what())));
  }
}

}  // namespace vectorize::cli
