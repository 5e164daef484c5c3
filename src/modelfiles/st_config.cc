// sentence-transformers files of a model folder: modules.json, the Pooling module's config.json,
// sentence_bert_config.json. Missing files mean the defaults (mean pooling, no normalisation,
// max_seq_length = min(512, max_position_embeddings)).

#include <fmt/format.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "modelfiles/model_dir.h"

namespace vectorize::modelfiles {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

Error Bad(const std::string& file, const std::string& what) {
  return Error::InvalidArgument(fmt::format("{}: {}", file, what));
}

// Reads `dir/rel` as JSON; absent → null value.
Result<json::value> ReadOptionalJson(const fs::path& dir, const std::string& rel) {
  std::error_code ec;
  const fs::path p = dir / rel;
  if (!fs::is_regular_file(p, ec)) return json::value(nullptr);
  if (fs::file_size(p, ec) > (1u << 20)) return Fail(Bad(rel, "file is too large"));
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  boost::system::error_code jec;
  json::value v = json::parse(ss.str(), jec);
  if (jec) return Fail(Bad(rel, fmt::format("not valid JSON ({})", jec.message())));
  if (v.is_null()) return Fail(Bad(rel, "must not be null"));
  return v;
}

bool EndsWithModule(std::string_view type, std::string_view module) {
  return type == module || type.ends_with(fmt::format(".{}", module));
}

Status ReadPooling(const fs::path& dir, const std::string& rel, ModelDirInfo* info) {
  auto v = ReadOptionalJson(dir, rel);
  if (!v) return Fail(std::move(v.error()));
  if (v->is_null()) return {};  // default: mean
  if (!v->is_object()) return Fail(Bad(rel, "not a JSON object"));
  const auto& obj = v->get_object();
  if (const auto* dim = obj.if_contains("word_embedding_dimension");
      dim && dim->is_int64() && dim->get_int64() != info->config.hidden_size) {
    return Fail(Bad(rel, fmt::format("word_embedding_dimension {} differs from hidden_size {}",
                                     dim->get_int64(), info->config.hidden_size)));
  }
  auto flag = [&](std::string_view key) {
    const auto* f = obj.if_contains(key);
    return f != nullptr && f->is_bool() && f->get_bool();
  };
  std::vector<Pooling> modes;
  if (flag("pooling_mode_cls_token")) modes.push_back(Pooling::kCls);
  if (flag("pooling_mode_mean_tokens")) modes.push_back(Pooling::kMean);
  if (flag("pooling_mode_max_tokens")) modes.push_back(Pooling::kMax);
  if (const auto* m = obj.if_contains("pooling_mode"); m && m->is_string()) {
    const std::string_view s = m->get_string();
    if (s == "cls")
      modes.push_back(Pooling::kCls);
    else if (s == "mean")
      modes.push_back(Pooling::kMean);
    else if (s == "max")
      modes.push_back(Pooling::kMax);
    else
      return Fail(Bad(rel, fmt::format("unsupported pooling_mode \"{}\"", s)));
  }
  for (const char* unsupported : {"pooling_mode_mean_sqrt_len_tokens",
                                  "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"}) {
    if (flag(unsupported)) {
      return Fail(
          Bad(rel, fmt::format("{} is not supported (supported: cls, mean, max)", unsupported)));
    }
  }
  if (modes.size() != 1) {
    return Fail(Bad(rel, modes.empty() ? "no pooling mode is enabled"
                                       : "more than one pooling mode is enabled (concatenated "
                                         "poolings are not supported)"));
  }
  info->pooling = modes.front();
  return {};
}

Status ReadModules(ModelDirInfo* info, std::string* pooling_rel) {
  auto v = ReadOptionalJson(info->dir, "modules.json");
  if (!v) return Fail(std::move(v.error()));
  if (v->is_null()) return {};
  if (!v->is_array()) return Fail(Bad("modules.json", "not a JSON array"));
  for (const auto& m : v->get_array()) {
    const auto* obj = m.if_object();
    const auto* type = obj ? obj->if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      return Fail(Bad("modules.json", "every module needs a string 'type'"));
    }
    const std::string_view t = type->get_string();
    std::string path;
    if (const auto* p = obj->if_contains("path"); p && p->is_string()) path = p->get_string();
    if (path.find("..") != std::string::npos || path.starts_with("/")) {
      return Fail(Bad("modules.json", fmt::format("invalid module path '{}'", path)));
    }
    if (EndsWithModule(t, "Transformer")) {
      if (!path.empty()) {
        return Fail(Bad("modules.json", "the Transformer module must live at the folder root"));
      }
    } else if (EndsWithModule(t, "Pooling")) {
      *pooling_rel = (path.empty() ? std::string("") : path + "/") + "config.json";
    } else if (EndsWithModule(t, "Normalize")) {
      info->normalize = true;
    } else {
      return Fail(Bad("modules.json", fmt::format("module '{}' is not supported (supported: "
                                                  "Transformer, Pooling, Normalize)",
                                                  t)));
    }
  }
  return {};
}

Status ReadMaxSeqLength(ModelDirInfo* info) {
  const int limit = info->config.max_position_embeddings;
  info->max_seq_length = std::min(512, limit);
  auto v = ReadOptionalJson(info->dir, "sentence_bert_config.json");
  if (!v) return Fail(std::move(v.error()));
  if (v->is_null()) return {};
  if (!v->is_object()) return Fail(Bad("sentence_bert_config.json", "not a JSON object"));
  const auto* len = v->get_object().if_contains("max_seq_length");
  if (len == nullptr || len->is_null()) return {};
  if (!len->is_int64() || len->get_int64() < 2) {
    return Fail(Bad("sentence_bert_config.json", "max_seq_length must be an integer >= 2"));
  }
  info->max_seq_length = static_cast<int>(std::min<std::int64_t>(len->get_int64(), limit));
  return {};
}

}  // namespace

Status ReadSentenceTransformersConfig(ModelDirInfo* info) {
  std::string pooling_rel;
  if (auto s = ReadModules(info, &pooling_rel); !s) return s;
  if (pooling_rel.empty()) pooling_rel = "1_Pooling/config.json";
  if (auto s = ReadPooling(info->dir, pooling_rel, info); !s) return s;
  return ReadMaxSeqLength(info);
}

}  // namespace vectorize::modelfiles
