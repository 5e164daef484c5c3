// ExtractZip: libarchive, streamed entry by entry to files with generated names. Sizes and the
// compression ratio are counted on the bytes actually decompressed (headers can lie).

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <locale.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/utf8.h"
#include "datasets/formats/internal.h"

namespace vectorize::datasets::formats {
namespace {

// Bytes libarchive reads from the file at a time; also the slack of the per-entry ratio
// estimate (an entry's first compressed bytes may have been read with the previous entry).
constexpr size_t kReadBlock = 16 << 10;

// Why an entry name is unsafe, or empty if it is fine.
std::string SlipReason(std::string_view name) {
  if (name.empty()) return "an empty name";
  if (name[0] == '/' || name[0] == '\\') return "an absolute path";
  if (name.size() >= 2 && name[1] == ':') return "a drive letter";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return "a '..' component";
    start = end + 1;
  }
  return {};
}

bool IsJunk(std::string_view name) {
  std::string_view rest = name;
  while (!rest.empty()) {
    size_t end = rest.find_first_of("/\\");
    std::string_view part = rest.substr(0, end);
    if (part == "__MACOSX") return true;
    if (end == std::string_view::npos) return !part.empty() && part[0] == '.';
    rest.remove_prefix(end + 1);
  }
  return false;
}

std::string SafeExtension(std::string_view last) {
  size_t dot = last.rfind('.');
  if (dot == std::string_view::npos) return "bin";
  std::string ext;
  for (char c : last.substr(dot + 1)) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ext.push_back(c);
    if (c >= 'A' && c <= 'Z') ext.push_back(static_cast<char>(c - 'A' + 'a'));
    if (ext.size() >= 8) break;
  }
  return ext.empty() ? "bin" : ext;
}

// Makes this thread's locale C.UTF-8 while it lives: libarchive converts entry names to the
// current locale's charset, and in the C locale a non-ASCII UTF-8 name has no form at all.
// uselocale() is per thread, so the process locale is untouched.
class Utf8Locale {
 public:
  Utf8Locale() : loc_(newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0))) {
    if (loc_ != static_cast<locale_t>(0)) old_ = uselocale(loc_);
  }
  ~Utf8Locale() {
    if (loc_ == static_cast<locale_t>(0)) return;
    uselocale(old_);
    freelocale(loc_);
  }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  locale_t loc_;
  locale_t old_ = static_cast<locale_t>(0);
};

}  // namespace

FormatResult<std::vector<ExtractedFile>> ExtractZip(const std::filesystem::path& zip,
                                                    const std::filesystem::path& dest_dir,
                                                    const Limits& limits) {
  const std::string display = zip.filename().string();
  std::error_code ec;
  uint64_t zip_bytes = std::filesystem::file_size(zip, ec);
  if (ec) return InvalidFileError(fmt::format("{}: cannot read the archive", Quote(display)));
  if (zip_bytes == 0) return EmptyFileError(fmt::format("{} is empty", Quote(display)));

  Utf8Locale utf8_names;
  std::vector<ExtractedFile> files;
  std::filesystem::path partial;
  auto fail = [&](std::unexpected<ConvertError> e) {
    std::error_code ignore;
    if (!partial.empty()) std::filesystem::remove(partial, ignore);
    for (const auto& f : files) std::filesystem::remove(f.path, ignore);
    return e;
  };

  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), &archive_read_free);
  archive_read_support_format_zip(a.get());
  auto corrupt = [&](std::string_view what) {
    const char* why = archive_error_string(a.get());
    return fail(InvalidFileError(fmt::format("{}: not a valid zip archive ({}{}{})", Quote(display),
                                             what, why ? ": " : "", why ? why : "")));
  };
  if (archive_read_open_filename(a.get(), zip.c_str(), kReadBlock) != ARCHIVE_OK) {
    return corrupt("cannot open");
  }

  uint64_t entries = 0;
  uint64_t total = 0;
  std::vector<char> buf(1 << 16);
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return corrupt(entries == 0 ? "no zip header" : "bad entry header");
    if (++entries > limits.max_zip_entries) {
      return fail(TooLargeError(
          fmt::format("{}: more than {} entries", Quote(display), limits.max_zip_entries)));
    }
    // UTF-8 first: in the C locale the multibyte form of a non-ASCII name is not available.
    const char* raw_name = archive_entry_pathname_utf8(e);
    if (raw_name == nullptr) raw_name = archive_entry_pathname(e);
    std::string raw = raw_name ? raw_name : "";
    // Old zips store names in a legacy code page: what callers see (and echo) is valid UTF-8.
    std::string name = IsValidUtf8(raw) ? raw : SanitizeUtf8(raw, 4096);
    if (std::string why = SlipReason(raw); !why.empty()) {
      return fail(InvalidFileError(
          fmt::format("{}: entry {} has {} (zip slip refused)", Quote(display), Quote(name), why)));
    }
    if (archive_entry_hardlink(e) != nullptr || archive_entry_filetype(e) == AE_IFLNK) {
      return fail(InvalidFileError(
          fmt::format("{}: entry {} is a link (zip slip refused)", Quote(display), Quote(name))));
    }
    if (archive_entry_filetype(e) == AE_IFDIR || IsJunk(name)) continue;
    if (archive_entry_filetype(e) != AE_IFREG) {
      return fail(InvalidFileError(
          fmt::format("{}: entry {} is not a regular file", Quote(display), Quote(name))));
    }
    if (archive_entry_is_encrypted(e)) {
      return fail(
          InvalidFileError(fmt::format("{}: entry {} is encrypted", Quote(display), Quote(name))));
    }
    if (archive_entry_size_is_set(e) &&
        static_cast<uint64_t>(archive_entry_size(e)) > limits.max_zip_entry_bytes) {
      return fail(TooLargeError(fmt::format("{}: entry {} is {} bytes; the limit is {}",
                                            Quote(display), Quote(name), archive_entry_size(e),
                                            limits.max_zip_entry_bytes)));
    }

    size_t slash = name.find_last_of("/\\");
    std::string last = slash == std::string::npos ? name : name.substr(slash + 1);
    auto stem = SanitizeFilename(last);
    partial = dest_dir / fmt::format("{:05}_{}.{}", files.size() + 1,
                                     stem ? *stem : std::string("file"), SafeExtension(last));
    int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::string err = std::strerror(errno);
      partial.clear();
      return fail(IoError(fmt::format("cannot write an extracted file: {}", err)));
    }
    uint64_t bytes = 0;
    const int64_t raw_at_start = archive_filter_bytes(a.get(), -1);
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        ::close(fd);
        return corrupt(fmt::format("entry {}", Quote(name)));
      }
      bytes += static_cast<uint64_t>(n);
      total += static_cast<uint64_t>(n);
      std::unexpected<ConvertError> err = std::unexpected(ConvertError{});
      bool bad = false;
      if (bytes > limits.max_zip_entry_bytes) {
        err = TooLargeError(fmt::format("{}: entry {} decompresses to more than {} bytes",
                                        Quote(display), Quote(name), limits.max_zip_entry_bytes));
        bad = true;
      } else if (total > limits.max_zip_total_bytes) {
        err = TooLargeError(fmt::format("{}: the entries decompress to more than {} bytes",
                                        Quote(display), limits.max_zip_total_bytes));
        bad = true;
      } else if (total > limits.ratio_check_min_bytes &&
                 static_cast<double>(total) >
                     limits.max_compression_ratio * static_cast<double>(zip_bytes)) {
        err = InvalidFileError(fmt::format(
            "{}: the entries decompress to more than {:.0f} times the archive's size (zip bomb "
            "refused at entry {})",
            Quote(display), limits.max_compression_ratio, Quote(name)));
        bad = true;
      } else if (bytes > limits.ratio_check_min_bytes) {
        // This entry alone: its compressed bytes are at most what was read since its header
        // plus one read block. Catches a bomb hidden among incompressible entries.
        int64_t raw = archive_filter_bytes(a.get(), -1) - raw_at_start;
        double compressed = static_cast<double>(std::max<int64_t>(raw, 0)) + kReadBlock;
        if (static_cast<double>(bytes) > limits.max_compression_ratio * compressed) {
          err = InvalidFileError(fmt::format(
              "{}: entry {} decompresses to more than {:.0f} times its compressed size (zip bomb "
              "refused)",
              Quote(display), Quote(name), limits.max_compression_ratio));
          bad = true;
        }
      }
      if (bad) {
        ::close(fd);
        return fail(err);
      }
      size_t off = 0;
      while (off < static_cast<size_t>(n)) {
        ssize_t w = ::write(fd, buf.data() + off, static_cast<size_t>(n) - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          std::string why = std::strerror(errno);
          ::close(fd);
          return fail(IoError(fmt::format("cannot write an extracted file: {}", why)));
        }
        off += static_cast<size_t>(w);
      }
    }
    if (::close(fd) != 0) {
      return fail(IoError(fmt::format("cannot write an extracted file: {}", std::strerror(errno))));
    }
    files.push_back(ExtractedFile{name, last, partial, bytes});
    partial.clear();
  }
  if (files.empty()) {
    return fail(InvalidFileError(fmt::format("{}: the archive contains no files", Quote(display))));
  }
  return files;
}

}  // namespace vectorize::datasets::formats
