#include "datasets/hub_import.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <system_error>

#include "common/uuid.h"

namespace vectorize::datasets {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Extension(const std::string& path) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return Lower(path.substr(dot + 1));
}

// Hidden files and folders (".gitattributes", ".cache/…") are never data.
bool Hidden(const std::string& path) {
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '.') return true;
    const auto slash = path.find('/', start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return false;
}

std::string Basename(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Error Permanent(std::string message) { return Error::FailedPrecondition(std::move(message)); }

std::string Mb(std::uint64_t bytes) { return fmt::format("{:.1f} MB", bytes / 1e6); }

// Column names of a data file: the keys of the first JSON object, or the CSV header.
Result<std::vector<std::string>> PeekColumns(const fs::path& path, const std::string& ext) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Internal("cannot open " + path.string()));
  std::vector<std::string> out;
  auto keys = [&out](const json::value& v) {
    if (v.is_object()) {
      for (const auto& kv : v.as_object()) out.emplace_back(kv.key());
    }
  };
  if (ext == "jsonl") {
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json::error_code ec;
      auto v = json::parse(line, ec);
      if (!ec) keys(v);
      break;
    }
  } else if (ext == "json") {
    // The first object of the array (or of "data"), parsed from a bounded prefix: whole files
    // can be large, and a prefix that ends mid-array still holds the first element.
    std::string head(4 << 20, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    const auto open = head.find('{', head.find_first_of("[{"));
    const auto first = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    std::size_t start = open;
    if (first != std::string::npos && head[first] == '{') {  // {"data": [{…}, …]}
      const auto data = head.find("\"data\"");
      start = data == std::string::npos ? std::string::npos : head.find('{', data);
    }
    if (start != std::string::npos) {
      json::stream_parser p;
      json::error_code ec;
      p.write_some(head.data() + start, head.size() - start, ec);
      if (p.done()) keys(p.release());
    }
  } else {  // csv
    std::string line;
    std::getline(in, line);
    if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    char delim = ',';
    std::size_t best = 0;
    for (char d : {',', ';', '\t', '|'}) {
      const auto n = static_cast<std::size_t>(std::count(line.begin(), line.end(), d));
      if (n > best) best = n, delim = d;
    }
    std::string cell;
    bool quoted = false;
    for (std::size_t i = 0; i <= line.size(); ++i) {
      const char c = i < line.size() ? line[i] : delim;
      if (c == '"') {
        quoted = !quoted;
      } else if (c == delim && !quoted) {
        const auto b = cell.find_first_not_of(' ');
        const auto e = cell.find_last_not_of(' ');
        out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
        cell.clear();
      } else {
        cell.push_back(c);
      }
    }
  }
  return out;
}

// Appends src to dst.
Status Append(const fs::path& src, std::ofstream& dst) {
  std::ifstream in(src, std::ios::binary);
  if (!in) return Fail(Error::Internal("cannot read " + src.string()));
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    dst.write(buf.data(), in.gcount());
  }
  if (!dst) return Fail(Error::Internal("cannot write the imported dataset"));
  return {};
}

std::string QueryEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The state of one run: where files go, what has been converted so far.
struct ImportRun {
  tasks::JobContext& ctx;
  fs::path work;
  std::ofstream out;
  std::int64_t rows = 0;
  std::optional<char> classification;
  int parts = 0;
};

Status ConvertInto(ImportRun& run, const fs::path& input, const std::string& filename,
                   const std::string& ext, const formats::Limits& limits) {
  auto columns = PeekColumns(input, ext);
  if (!columns) return Fail(columns.error());
  auto mapping = formats::MapHubColumns(*columns);
  if (!mapping) {
    std::string names;
    for (const auto& c : *columns) names += (names.empty() ? "" : ", ") + c;
    return Fail(Permanent(fmt::format(
        "the columns of {} ({}) match none of the allowed schemas (see docs/datasets.md)", filename,
        names.empty() ? "none found" : names)));
  }
  formats::ColumnOptions options;
  options.question_name = mapping->question;
  options.positive_name = mapping->positive;
  options.negative_name = mapping->negative;
  const fs::path part = run.work / fmt::format("part-{}.jsonl", run.parts++);
  auto converted = formats::ConvertFile(input, filename, options, part, limits);
  if (!converted) {
    return Fail(Permanent(fmt::format("{}: {}", filename, converted.error().message)));
  }
  if (run.classification && *run.classification != converted->classification) {
    return Fail(Permanent(fmt::format(
        "{} has {} while earlier files have {}: one dataset cannot mix duples and triples",
        filename, converted->classification == 'T' ? "triples" : "duples",
        *run.classification == 'T' ? "triples" : "duples")));
  }
  run.classification = converted->classification;
  if (auto s = Append(part, run.out); !s) return s;
  run.rows += static_cast<std::int64_t>(converted->rows);
  std::error_code ec;
  fs::remove(part, ec);
  fs::remove(input, ec);
  return {};
}

}  // namespace

HubImporter::HubImporter(DatasetService& service, tasks::TaskStore& tasks, tasks::Engine* engine,
                         const remote::HubClient& hub, const remote::HttpClient& http,
                         HubImportOptions options)
    : service_(service),
      tasks_(tasks),
      engine_(engine),
      hub_(hub),
      http_(http),
      options_(std::move(options)) {}

Result<tasks::TaskDetail> HubImporter::Submit(const std::string& tag, const std::string& revision) {
  if (auto s = remote::ValidateHubRepoId(tag); !s) {
    return Fail(Error::Validation({FieldError{{"body", "dataset_tag"}, s.error().message}}));
  }
  if (auto s = remote::ValidateRevision(revision); !s) {
    return Fail(Error::Validation({FieldError{{"body", "revision"}, s.error().message}}));
  }
  auto info = hub_.DatasetInfo(tag, revision);
  if (!info) {
    if (info.error().code == ErrorCode::kNotFound) {
      return Fail(Error::NotFound(
          fmt::format("Hugging Face dataset {} (revision {}) not found", tag, revision)));
    }
    return Fail(info.error());
  }
  auto existing = service_.store().FindByHubTag(tag);
  if (!existing) return Fail(existing.error());
  if (*existing) {
    Error e =
        Error::AlreadyExists(fmt::format("Hugging Face dataset {} is already imported as "
                                         "dataset {}",
                                         tag, (*existing)->id));
    e.public_code = "DATASET_ALREADY_EXISTS";
    return Fail(std::move(e));
  }
  const std::string id = NewUuidV7();
  auto reserved = service_.store().ReserveHubTag(tag, id);
  if (!reserved) return Fail(reserved.error());
  if (!*reserved) {
    Error e = Error::FailedPrecondition(
        fmt::format("Hugging Face dataset {} is already being imported", tag));
    e.public_code = "CONFLICT";
    return Fail(std::move(e));
  }
  tasks::NewTask task;
  task.id = id;
  task.type = tasks::TaskType::kDatasetUpload;
  if (tag.size() <= 100) task.tag = tag;
  task.inputs = json::serialize(
      json::object{{"source", "huggingface"}, {"dataset_tag", tag}, {"revision", revision}});
  auto ids = engine_ ? engine_->Enqueue(std::span(&task, 1)) : tasks_.Enqueue(std::span(&task, 1));
  if (!ids) {
    (void)service_.store().ReleaseHubTag(tag, id);
    return Fail(ids.error());
  }
  return tasks_.Get(id);
}

Result<tasks::TaskDetail> HubImporter::Status(const std::string& task_id) {
  auto t = tasks_.Get(task_id);
  if (!t || t->type != tasks::TaskType::kDatasetUpload) {
    if (t || t.error().code == ErrorCode::kNotFound) {
      return Fail(Error::NotFound("Task with ID " + task_id + " not found"));
    }
    return Fail(t.error());
  }
  return t;
}

vectorize::Status HubImporter::Run(tasks::JobContext& ctx) {
  const tasks::TaskDetail& task = ctx.task();
  json::error_code ec;
  const json::value inputs = json::parse(task.inputs, ec);
  const json::object* in = !ec && inputs.is_object() ? &inputs.as_object() : nullptr;
  const json::value* source = in ? in->if_contains("source") : nullptr;
  if (!source || !source->is_string() || source->as_string() != "huggingface") {
    return Fail(
        Permanent("a local upload is stored (or refused) when it is received and cannot run again: "
                  "upload the file again"));
  }
  const json::value* tag_v = in->if_contains("dataset_tag");
  const json::value* rev_v = in->if_contains("revision");
  if (!tag_v || !tag_v->is_string()) return Fail(Permanent("the task has no dataset_tag"));
  const std::string tag(tag_v->as_string());
  const std::string revision =
      rev_v && rev_v->is_string() ? std::string(rev_v->as_string()) : "main";

  ImportRun run{ctx, service_.TempDir() / ("hub-" + task.id)};
  std::error_code fs_ec;
  fs::remove_all(run.work, fs_ec);  // a partial earlier attempt
  fs::create_directories(run.work, fs_ec);
  if (fs_ec) return Fail(Error::Internal("cannot create " + run.work.string()));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{run.work};
  const std::function<bool()> cancelled = [&ctx] { return ctx.IsCancelled(); };

  ctx.ReportProgress(0.0, "reading the dataset's file list");
  auto info = hub_.DatasetInfo(tag, revision, cancelled);
  if (!info) return Fail(info.error());
  if (auto s = ctx.CheckCancelled(); !s) return s;

  std::vector<remote::HubFile> data, parquet;
  for (const auto& f : info->files) {
    if (Hidden(f.path)) continue;
    const std::string ext = Extension(f.path);
    if (ext == "json" || ext == "jsonl" || ext == "csv") data.push_back(f);
    if (ext == "parquet") parquet.push_back(f);
  }
  std::ranges::sort(data, {}, &remote::HubFile::path);
  if (data.empty() && parquet.empty()) {
    return Fail(Permanent(fmt::format(
        "{} has no JSON, JSONL, CSV or Parquet data files at revision {}", tag, revision)));
  }
  run.out.open(run.work / "dataset.jsonl", std::ios::binary | std::ios::trunc);
  if (!run.out) return Fail(Error::Internal("cannot write in " + run.work.string()));
  const formats::Limits limits = service_.limits();

  if (!data.empty()) {
    std::uint64_t total = 0, done_before = 0;
    for (const auto& f : data) total += f.size.value_or(0);
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto& f = data[i];
      const std::string ext = Extension(f.path);
      const fs::path dest = run.work / fmt::format("in-{}.{}", i, ext);
      remote::DownloadOptions o;
      o.request.cancelled = cancelled;
      o.max_bytes = limits.max_file_bytes;
      o.progress = [&](std::uint64_t got, std::optional<std::uint64_t>) {
        const std::uint64_t bytes = done_before + got;
        ctx.ReportProgress(
            total ? std::optional<double>(0.9 * double(bytes) / double(total)) : std::nullopt,
            fmt::format("file {}/{} {}: {} of {}, {} rows", i + 1, data.size(), f.path, Mb(bytes),
                        Mb(total), run.rows));
      };
      auto got = hub_.DownloadFile(remote::HubRepoKind::kDataset, tag, info->sha, f, dest, o);
      if (!got) return Fail(got.error());
      done_before += got->bytes;
      if (auto s = ctx.CheckCancelled(); !s) return s;
      if (auto s = ConvertInto(run, dest, Basename(f.path), ext, limits); !s) return s;
      ctx.ReportProgress(
          total ? std::optional<double>(0.9 * double(done_before) / double(total)) : std::nullopt,
          fmt::format("file {}/{} converted, {} of {}, {} rows", i + 1, data.size(),
                      Mb(done_before), Mb(total), run.rows));
    }
  } else {
    // Parquet only: the dataset-viewer serves the rows of every config and split as JSON.
    remote::RequestOptions ro;
    ro.cancelled = cancelled;
    ro.bearer_token = options_.token;
    const std::string base = options_.datasets_server;
    auto splits = http_.Get(fmt::format("{}/splits?dataset={}", base, QueryEscape(tag)), ro);
    if (!splits) return Fail(splits.error());
    const json::value sv = json::parse(splits->body, ec);
    if (ec || !sv.is_object() || !sv.as_object().contains("splits") ||
        !sv.at("splits").is_array()) {
      return Fail(Error::Unavailable("the dataset viewer answered /splits without a list"));
    }
    const auto& list = sv.at("splits").as_array();
    std::int64_t fetched = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto* so = list[i].if_object();
      if (!so || !so->contains("config") || !so->contains("split")) continue;
      const std::string config(so->at("config").as_string());
      const std::string split(so->at("split").as_string());
      const fs::path rows_file = run.work / fmt::format("rows-{}.jsonl", i);
      std::ofstream rows_out(rows_file, std::ios::binary | std::ios::trunc);
      std::int64_t offset = 0, total = -1;
      while (total < 0 || offset < total) {
        if (auto s = ctx.CheckCancelled(); !s) return s;
        auto page =
            http_.Get(fmt::format("{}/rows?dataset={}&config={}&split={}&offset={}&length={}", base,
                                  QueryEscape(tag), QueryEscape(config), QueryEscape(split), offset,
                                  options_.rows_page),
                      ro);
        if (!page) return Fail(page.error());
        const json::value pv = json::parse(page->body, ec);
        if (ec || !pv.is_object() || !pv.as_object().contains("rows")) {
          return Fail(Error::Unavailable("the dataset viewer answered /rows without rows"));
        }
        const auto& rows = pv.at("rows").as_array();
        if (const auto* t = pv.as_object().if_contains("num_rows_total"); t && t->is_int64()) {
          total = t->as_int64();
        }
        for (const auto& r : rows) {
          const auto* ro_row = r.if_object();
          const auto* row = ro_row ? ro_row->if_contains("row") : nullptr;
          if (row) rows_out << json::serialize(*row) << '\n';
        }
        offset += static_cast<std::int64_t>(rows.size());
        fetched += static_cast<std::int64_t>(rows.size());
        ctx.ReportProgress(
            total > 0 ? std::optional<double>(0.9 * double(offset) / double(total)) : std::nullopt,
            fmt::format("{}/{} rows {} of {}, {} rows fetched", config, split, offset, total,
                        fetched));
        if (rows.empty()) break;
      }
      rows_out.close();
      if (!rows_out) return Fail(Error::Internal("cannot write " + rows_file.string()));
      if (fs::file_size(rows_file, fs_ec) == 0) continue;  // an empty split
      if (auto s = ConvertInto(run, rows_file, config + "-" + split + ".jsonl", "jsonl", limits);
          !s) {
        return s;
      }
    }
  }
  run.out.close();
  if (!run.out) return Fail(Error::Internal("cannot write the imported dataset"));
  if (run.rows == 0) return Fail(Permanent(tag + " has no usable rows"));
  if (auto s = ctx.CheckCancelled(); !s) return s;

  std::string name = tag;
  std::ranges::replace(name, '/', '_');
  auto stem = formats::SanitizeFilename(name + ".jsonl");
  auto stored = service_.StoreConverted(run.work / "dataset.jsonl", stem ? *stem : "hub_dataset",
                                        run.classification.value_or('D'), run.rows,
                                        DatasetSource::kHub, tag, revision);
  if (!stored) return Fail(stored.error());
  ctx.SetResult(
      json::serialize(json::object{{"dataset_id", stored->id},
                                   {"name", stored->name},
                                   {"rows", stored->rows},
                                   {"classification", std::string(1, stored->classification)},
                                   {"dataset_tag", tag},
                                   {"revision", revision},
                                   {"commit", info->sha}}));
  ctx.ReportProgress(1.0, fmt::format("{} rows imported", stored->rows));
  spdlog::info("task {}: imported Hugging Face dataset {} as dataset {} ({} rows)", task.id, tag,
               stored->id, stored->rows);
  return {};
}

}  // namespace vectorize::datasets
