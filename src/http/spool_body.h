#pragma once
// A Beast Body for requests that is either an in-memory string (ordinary JSON bodies) or a temp
// file the body is spooled to as it arrives (upload routes: constant memory). Included only by
// server.cc, so Beast stays confined to it.
// The temp file belongs to the body value: it is closed and unlinked when the value is destroyed
// or Remove() is called, so a request that ends in any way (answered, dropped mid-body, server
// stopped) leaves nothing behind. Thread safety: used on one connection's strand only.

#include <fcntl.h>
#include <unistd.h>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

namespace vectorize::http {

struct SpoolBody {
  class value_type {
   public:
    value_type() = default;
    value_type(value_type&& o) noexcept
        : text(std::move(o.text)),
          fd_(std::exchange(o.fd_, -1)),
          path_(std::move(o.path_)),
          size_(o.size_) {
      o.path_.clear();
    }
    value_type& operator=(value_type&& o) noexcept {
      if (this != &o) {
        Remove();
        text = std::move(o.text);
        fd_ = std::exchange(o.fd_, -1);
        path_ = std::exchange(o.path_, {});
        size_ = o.size_;
      }
      return *this;
    }
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;
    ~value_type() { Remove(); }

    // Switches this body to spooling: creates "<dir>/upload-XXXXXX" (0600). Errors: errno.
    std::error_code SpoolTo(const std::string& dir) {
      Remove();
      std::string templ = dir + "/upload-XXXXXX";
      const int fd = ::mkostemp(templ.data(), O_CLOEXEC);
      if (fd < 0) return {errno, std::generic_category()};
      fd_ = fd;
      path_ = std::move(templ);
      size_ = 0;
      return {};
    }
    bool spooled() const { return !path_.empty(); }
    const std::string& path() const { return path_; }
    std::uint64_t size() const { return size_; }
    // Closes the file so readers see all of it (the path stays valid until Remove).
    void CloseFile() {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }
    // Closes and unlinks the temp file (a handler may have renamed it away: then nothing).
    void Remove() {
      CloseFile();
      if (!path_.empty()) ::unlink(path_.c_str());
      path_.clear();
      size_ = 0;
    }

    std::string text;  // the body when not spooled

   private:
    friend struct SpoolBody;
    int fd_ = -1;
    std::string path_;
    std::uint64_t size_ = 0;
  };

  static std::uint64_t size(const value_type& body) { return body.text.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      ec = {};
      if (!body_.spooled() && length) body_.text.reserve(static_cast<std::size_t>(*length));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      std::size_t total = 0;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        const char* p = static_cast<const char*>(b.data());
        std::size_t n = b.size();
        if (!body_.spooled()) {
          body_.text.append(p, n);
          total += n;
          continue;
        }
        while (n > 0) {
          const ssize_t w = ::write(body_.fd_, p, n);
          if (w < 0) {
            if (errno == EINTR) continue;
            ec = boost::beast::error_code(errno, boost::system::generic_category());
            return total;
          }
          p += w;
          n -= static_cast<std::size_t>(w);
          total += static_cast<std::size_t>(w);
          body_.size_ += static_cast<std::uint64_t>(w);
        }
      }
      return total;
    }

    void finish(boost::beast::error_code& ec) {
      ec = {};
      body_.CloseFile();
    }

   private:
    value_type& body_;
  };
};

}  // namespace vectorize::http
