#include "http/routes/embeddings_json.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <limits>
#include <optional>

#include "embeddings/vector_ops.h"

namespace vectorize::http {

namespace json = boost::json;

namespace {

using Loc = std::vector<std::string>;

Loc At(std::initializer_list<std::string> parts) { return Loc(parts); }

// A JSON number that is a whole number (FastAPI's lax int also takes 3.0), else nullopt.
std::optional<std::int64_t> WholeNumber(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::numeric_limits<std::int64_t>::max();
    }
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

// One token id at `loc`, or a field error.
std::optional<std::int32_t> TokenId(const json::value& v, Loc loc,
                                    std::vector<FieldError>& errors) {
  auto n = WholeNumber(v);
  if (!n) {
    errors.push_back({std::move(loc), "Input should be a valid integer (a token id)", "int_type"});
    return std::nullopt;
  }
  if (*n < 0 || *n > std::numeric_limits<std::int32_t>::max()) {
    errors.push_back(
        {std::move(loc), "token ids are between 0 and the vocabulary size", "value_error"});
    return std::nullopt;
  }
  return static_cast<std::int32_t>(*n);
}

void ParseInput(const json::value& v, embeddings::EmbeddingInput& input,
                std::vector<FieldError>& errors) {
  constexpr std::size_t kMaxErrors = 20;
  if (v.is_string()) {
    if (v.get_string().empty()) {
      errors.push_back(
          {At({"body", "input"}), "input must not be an empty string", "string_too_short"});
      return;
    }
    input.texts.emplace_back(v.get_string());
    return;
  }
  if (!v.is_array()) {
    errors.push_back({At({"body", "input"}),
                      "Input should be a string, a list of strings, a list of token ids or a "
                      "list of lists of token ids",
                      "type_error"});
    return;
  }
  const json::array& items = v.get_array();
  if (items.empty()) {
    errors.push_back({At({"body", "input"}), "input must not be an empty list", "too_short"});
    return;
  }
  const json::value& first = items.front();
  if (first.is_string()) {
    input.texts.reserve(items.size());
    for (std::size_t i = 0; i < items.size() && errors.size() < kMaxErrors; ++i) {
      const json::value& item = items[i];
      Loc loc = {"body", "input", std::to_string(i)};
      if (!item.is_string()) {
        errors.push_back({std::move(loc), "Input should be a valid string", "string_type"});
      } else if (item.get_string().empty()) {
        errors.push_back(
            {std::move(loc), "input must not contain empty strings", "string_too_short"});
      } else {
        input.texts.emplace_back(item.get_string());
      }
    }
    return;
  }
  input.tokens = true;
  if (first.is_array()) {
    input.nested = true;
    input.token_ids.reserve(items.size());
    for (std::size_t i = 0; i < items.size() && errors.size() < kMaxErrors; ++i) {
      const json::value& item = items[i];
      if (!item.is_array()) {
        errors.push_back({At({"body", "input", std::to_string(i)}),
                          "Input should be a valid list of token ids", "list_type"});
        continue;
      }
      if (item.get_array().empty()) {
        errors.push_back({At({"body", "input", std::to_string(i)}),
                          "input must not contain empty lists", "too_short"});
        continue;
      }
      std::vector<std::int32_t> ids;
      ids.reserve(item.get_array().size());
      for (std::size_t j = 0; j < item.get_array().size(); ++j) {
        auto id = TokenId(item.get_array()[j],
                          {"body", "input", std::to_string(i), std::to_string(j)}, errors);
        if (!id) break;
        ids.push_back(*id);
      }
      input.token_ids.push_back(std::move(ids));
    }
    return;
  }
  std::vector<std::int32_t> ids;
  ids.reserve(items.size());
  for (std::size_t j = 0; j < items.size() && errors.size() < kMaxErrors; ++j) {
    auto id = TokenId(items[j], {"body", "input", std::to_string(j)}, errors);
    if (id) ids.push_back(*id);
  }
  input.token_ids.push_back(std::move(ids));
}

}  // namespace

Result<EmbeddingsRequestBody> ParseEmbeddingsRequest(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    return Fail(
        Error::Validation({{At({"body"}), "JSON decode error: " + ec.message(), "json_invalid"}}));
  }
  if (!doc.is_object()) {
    return Fail(Error::Validation(
        {{At({"body"}), "Input should be a JSON object with \"input\" and \"model\"",
          "model_attributes_type"}}));
  }
  const json::object& o = doc.get_object();
  EmbeddingsRequestBody out;
  std::vector<FieldError> errors;

  // Absent is "missing"; an explicit null is a value of the wrong type (as FastAPI answers).
  if (const json::value* v = o.if_contains("input"); v == nullptr) {
    errors.push_back({At({"body", "input"}), "Field required", "missing"});
  } else if (v->is_null()) {
    errors.push_back({At({"body", "input"}),
                      "Input should be a string, a list of strings or a list of token ids",
                      "string_type"});
  } else {
    ParseInput(*v, out.request.input, errors);
  }

  if (const json::value* v = o.if_contains("model"); v == nullptr) {
    errors.push_back({At({"body", "model"}), "Field required", "missing"});
  } else if (!v->is_string()) {
    errors.push_back({At({"body", "model"}), "Input should be a valid string", "string_type"});
  } else if (v->get_string().empty()) {
    errors.push_back({At({"body", "model"}), "model must name a model tag", "string_too_short"});
  } else {
    out.request.model = std::string(v->get_string());
  }

  if (const json::value* v = o.if_contains("encoding_format"); v != nullptr && !v->is_null()) {
    if (v->is_string() && v->get_string() == "float") {
      out.format = EncodingFormat::kFloat;
    } else if (v->is_string() && v->get_string() == "base64") {
      out.format = EncodingFormat::kBase64;
    } else {
      errors.push_back({At({"body", "encoding_format"}), "Input should be 'float' or 'base64'",
                        "literal_error"});
    }
  }

  if (const json::value* v = o.if_contains("dimensions"); v != nullptr && !v->is_null()) {
    auto n = v->is_bool() ? std::nullopt : WholeNumber(*v);
    if (!n) {
      errors.push_back({At({"body", "dimensions"}), "Input should be a valid integer", "int_type"});
    } else if (*n < 1) {
      errors.push_back({At({"body", "dimensions"}), "Input should be greater than or equal to 1",
                        "greater_than_equal"});
    } else {
      out.request.dimensions =
          static_cast<int>(std::min<std::int64_t>(*n, std::numeric_limits<int>::max()));
    }
  }

  if (const json::value* v = o.if_contains("user");
      v != nullptr && !v->is_null() && !v->is_string()) {
    errors.push_back({At({"body", "user"}), "Input should be a valid string", "string_type"});
  }

  if (!errors.empty()) return Fail(Error::Validation(std::move(errors)));
  return out;
}

std::string EmbeddingsResponseJson(const embeddings::EmbedResult& result, std::string_view model,
                                   EncodingFormat format) {
  std::string out;
  std::size_t dim = result.vectors.empty() ? 0 : result.vectors.front().size();
  out.reserve(64 +
              result.vectors.size() * (48 + dim * (format == EncodingFormat::kFloat ? 12 : 6)));
  out += R"({"object":"list","data":[)";
  auto it = std::back_inserter(out);
  for (std::size_t i = 0; i < result.vectors.size(); ++i) {
    if (i) out += ',';
    out += R"({"object":"embedding","embedding":)";
    if (format == EncodingFormat::kBase64) {
      out += '"';
      out += embeddings::Base64Float32(result.vectors[i]);
      out += '"';
    } else {
      out += '[';
      bool first = true;
      for (float x : result.vectors[i]) {
        if (!first) out += ',';
        first = false;
        // Shortest text that reads back as the same float32.
        if (std::isfinite(x)) {
          fmt::format_to(it, "{}", x);
        } else {
          out += '0';
        }
      }
      out += ']';
    }
    fmt::format_to(it, R"(,"index":{}}})", i);
  }
  out += R"(],"model":)";
  out += json::serialize(json::value(json::string_view(model.data(), model.size())));
  fmt::format_to(it, R"(,"usage":{{"prompt_tokens":{},"total_tokens":{}}}}})", result.prompt_tokens,
                 result.prompt_tokens);
  return out;
}

}  // namespace vectorize::http
