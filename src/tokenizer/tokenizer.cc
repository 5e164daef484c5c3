#include "tokenizer/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "tokenizer/unicode.h"

namespace vectorize::tokenizer {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxId = 16'000'000;  // refuses absurd ids before allocating for them

Error Bad(std::string what) {
  return Error::InvalidArgument(fmt::format("tokenizer.json: {}", what));
}

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return nullptr;
  return it->value().if_object();
}

std::optional<bool> BoolAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_bool()) return std::nullopt;
  return it->value().as_bool();
}

std::string_view StringAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}

std::optional<std::int64_t> IntOf(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(kMaxId)) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

bool IsWordByte(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; }

}  // namespace

Result<std::shared_ptr<const Tokenizer>> Tokenizer::FromFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::NotFound(fmt::format("cannot read {}", path.string())));
  std::ostringstream buf;
  buf << in.rdbuf();
  auto t = FromJson(buf.str());
  if (!t) {
    t.error().message = fmt::format("{} ({})", t.error().message, path.filename().string());
  }
  return t;
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::FromJson(std::string_view text) {
  std::shared_ptr<Tokenizer> t(new Tokenizer());
  try {
    if (auto st = t->Load(text); !st) return Fail(st.error());
  } catch (const std::exception& e) {  // Boost.JSON accessors on unexpected shapes
    return Fail(Bad(fmt::format("unexpected structure ({})", e.what())));
  }
  return std::shared_ptr<const Tokenizer>(std::move(t));
}

Status Tokenizer::Load(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return Fail(Bad(fmt::format("not valid JSON ({})", ec.message())));
  const json::object* doc = root.if_object();
  if (doc == nullptr) return Fail(Bad("the document is not a JSON object"));

  // --- model: WordPiece -------------------------------------------------------------------
  const json::object* model = ObjectAt(*doc, "model");
  if (model == nullptr) return Fail(Bad("\"model\" is missing"));
  std::string_view type = StringAt(*model, "type");
  if (!type.empty() && type != "WordPiece") {
    return Fail(Bad(fmt::format("model type \"{}\" is not supported (WordPiece only)", type)));
  }
  const json::object* vocab = ObjectAt(*model, "vocab");
  if (vocab == nullptr || vocab->empty()) return Fail(Bad("\"model.vocab\" is missing or empty"));
  if (auto it = model->find("continuing_subword_prefix");
      it != model->end() && it->value().is_string()) {
    continuing_prefix_ = std::string(it->value().get_string());
  }
  if (auto it = model->find("max_input_chars_per_word"); it != model->end()) {
    auto v = IntOf(it->value());
    if (!v || *v <= 0) return Fail(Bad("\"model.max_input_chars_per_word\" must be positive"));
    max_input_chars_per_word_ = static_cast<std::size_t>(*v);
  }

  // Added tokens first collected so that every id gets a slot.
  const json::value* added_v = doc->if_contains("added_tokens");
  std::int64_t max_id = -1;
  for (const auto& kv : *vocab) {
    auto id = IntOf(kv.value());
    if (!id || *id < 0 || *id >= kMaxId) {
      return Fail(Bad(fmt::format("vocab entry \"{}\" has an invalid id", std::string(kv.key()))));
    }
    max_id = std::max(max_id, *id);
  }
  if (added_v != nullptr && !added_v->is_null()) {
    const json::array* arr = added_v->if_array();
    if (arr == nullptr) return Fail(Bad("\"added_tokens\" is not an array"));
    for (const auto& item : *arr) {
      const json::object* o = item.if_object();
      if (o == nullptr) return Fail(Bad("an added token is not an object"));
      auto idv = o->if_contains("id");
      auto id = idv != nullptr ? IntOf(*idv) : std::nullopt;
      auto content = o->if_contains("content");
      if (!id || *id < 0 || *id >= kMaxId || content == nullptr || !content->is_string() ||
          content->get_string().empty()) {
        return Fail(Bad("an added token needs a non-empty \"content\" and a valid \"id\""));
      }
      AddedToken tok;
      tok.content = std::string(content->get_string());
      tok.id = static_cast<std::int32_t>(*id);
      // `tokenizers` defaults "normalized" to the opposite of "special".
      tok.normalized = BoolAt(*o, "normalized").value_or(!BoolAt(*o, "special").value_or(false));
      tok.lstrip = BoolAt(*o, "lstrip").value_or(false);
      tok.rstrip = BoolAt(*o, "rstrip").value_or(false);
      tok.single_word = BoolAt(*o, "single_word").value_or(false);
      max_id = std::max(max_id, *id);
      added_.push_back(std::move(tok));
    }
  }

  id_to_token_.assign(static_cast<std::size_t>(max_id + 1), std::string());
  std::vector<bool> used(id_to_token_.size(), false);
  auto stable = [&](std::string_view s, std::int32_t id) -> std::string_view {
    if (!used[static_cast<std::size_t>(id)]) {
      used[static_cast<std::size_t>(id)] = true;
      id_to_token_[static_cast<std::size_t>(id)] = std::string(s);
      return id_to_token_[static_cast<std::size_t>(id)];
    }
    if (id_to_token_[static_cast<std::size_t>(id)] == s) {
      return id_to_token_[static_cast<std::size_t>(id)];
    }
    extra_strings_.push_back(std::make_unique<std::string>(s));
    return *extra_strings_.back();
  };
  for (const auto& kv : *vocab) {
    auto id = static_cast<std::int32_t>(*IntOf(kv.value()));
    std::string_view key = stable(kv.key(), id);
    vocab_.Insert(key, id);
  }
  for (const AddedToken& tok : added_) {
    std::string_view key = stable(tok.content, tok.id);
    vocab_.Insert(key, tok.id);  // keeps the vocab's id when both list it
  }
  vocab_.ForEach([&](std::string_view key, std::int32_t id) {
    max_token_bytes_ = std::max(max_token_bytes_, key.size());
    if (!continuing_prefix_.empty() && key.size() > continuing_prefix_.size() &&
        key.starts_with(continuing_prefix_)) {
      continuation_.Insert(key.substr(continuing_prefix_.size()), id);
    }
  });

  std::string unk(StringAt(*model, "unk_token"));
  if (unk.empty()) unk = "[UNK]";
  auto unk_id = vocab_.Find(unk);
  if (!unk_id) {
    return Fail(Bad(fmt::format("unk_token \"{}\" is not in the vocabulary", unk)));
  }
  unk_id_ = *unk_id;

  // --- normalizer ------------------------------------------------------------------------
  BertNormalizerOptions norm;
  const json::value* nv = doc->if_contains("normalizer");
  if (nv == nullptr || nv->is_null()) {
    norm.enabled = false;
  } else {
    const json::object* n = nv->if_object();
    if (n == nullptr) return Fail(Bad("\"normalizer\" is not an object"));
    std::string_view ntype = StringAt(*n, "type");
    if (ntype != "BertNormalizer") {
      return Fail(
          Bad(fmt::format("normalizer \"{}\" is not supported (BertNormalizer only)", ntype)));
    }
    norm.clean_text = BoolAt(*n, "clean_text").value_or(true);
    norm.handle_chinese_chars = BoolAt(*n, "handle_chinese_chars").value_or(true);
    norm.lowercase = BoolAt(*n, "lowercase").value_or(true);
    norm.strip_accents = BoolAt(*n, "strip_accents").value_or(norm.lowercase);
  }
  normalizer_ = BertNormalizer(norm);

  // --- pre-tokenizer -----------------------------------------------------------------------
  const json::value* pv = doc->if_contains("pre_tokenizer");
  {
    const json::object* p = pv != nullptr ? pv->if_object() : nullptr;
    std::string_view ptype = p != nullptr ? StringAt(*p, "type") : std::string_view("null");
    if (ptype != "BertPreTokenizer") {
      return Fail(
          Bad(fmt::format("pre_tokenizer \"{}\" is not supported (BertPreTokenizer only)", ptype)));
    }
  }

  // --- post-processor ----------------------------------------------------------------------
  const json::value* ppv = doc->if_contains("post_processor");
  if (ppv != nullptr && !ppv->is_null()) {
    const json::object* pp = ppv->if_object();
    if (pp == nullptr) return Fail(Bad("\"post_processor\" is not an object"));
    std::string_view pptype = StringAt(*pp, "type");
    if (pptype == "TemplateProcessing") {
      const json::value* single = pp->if_contains("single");
      const json::object* specials = ObjectAt(*pp, "special_tokens");
      if (single == nullptr || !single->is_array()) {
        return Fail(Bad("post_processor.single is missing"));
      }
      bool seen_sequence = false;
      for (const auto& piece : single->get_array()) {
        const json::object* po = piece.if_object();
        if (po == nullptr) return Fail(Bad("post_processor.single holds a non-object"));
        if (po->contains("Sequence")) {
          seen_sequence = true;
          continue;
        }
        const json::object* st = ObjectAt(*po, "SpecialToken");
        if (st == nullptr) return Fail(Bad("post_processor.single holds an unknown piece"));
        std::string_view name = StringAt(*st, "id");
        const json::object* def = specials != nullptr ? ObjectAt(*specials, name) : nullptr;
        const json::value* ids = def != nullptr ? def->if_contains("ids") : nullptr;
        if (ids == nullptr || !ids->is_array()) {
          return Fail(Bad(fmt::format("special token \"{}\" has no ids", name)));
        }
        for (const auto& idv : ids->get_array()) {
          auto id = IntOf(idv);
          if (!id || *id < 0 || *id > max_id) {
            return Fail(Bad(fmt::format("special token \"{}\" has an invalid id", name)));
          }
          (seen_sequence ? suffix_ids_ : prefix_ids_).push_back(static_cast<std::int32_t>(*id));
        }
      }
      if (!seen_sequence) return Fail(Bad("post_processor.single has no Sequence"));
    } else if (pptype == "BertProcessing" || pptype == "RobertaProcessing") {
      auto pair_id = [&](std::string_view key) -> std::optional<std::int32_t> {
        const json::value* v = pp->if_contains(key);
        if (v == nullptr || !v->is_array() || v->get_array().size() != 2) return std::nullopt;
        auto id = IntOf(v->get_array()[1]);
        if (!id || *id < 0 || *id > max_id) return std::nullopt;
        return static_cast<std::int32_t>(*id);
      };
      auto cls = pair_id("cls");
      auto sep = pair_id("sep");
      if (!cls || !sep) return Fail(Bad(fmt::format("{} needs cls and sep", pptype)));
      prefix_ids_ = {*cls};
      suffix_ids_ = {*sep};
    } else {
      return Fail(Bad(fmt::format("post_processor \"{}\" is not supported", pptype)));
    }
  }

  // --- padding id --------------------------------------------------------------------------
  if (const json::object* pad = ObjectAt(*doc, "padding"); pad != nullptr) {
    if (auto v = pad->if_contains("pad_id"); v != nullptr && IntOf(*v)) {
      pad_id_ = static_cast<std::int32_t>(*IntOf(*v));
    }
  } else if (auto id = TokenToId("[PAD]")) {
    pad_id_ = *id;
  }

  // Added tokens matched on normalised text are compared against their normalised content.
  for (AddedToken& tok : added_) {
    if (tok.normalized) {
      std::string n;
      normalizer_.Normalize(tok.content, n);
      if (n.empty()) continue;
      tok.content = std::move(n);
    }
  }
  for (const AddedToken& tok : added_) {
    (tok.normalized ? normalized_added_ : raw_added_).push_back(&tok);
  }
  auto longest_first = [](const AddedToken* a, const AddedToken* b) {
    return a->content.size() > b->content.size();
  };
  std::stable_sort(raw_added_.begin(), raw_added_.end(), longest_first);
  std::stable_sort(normalized_added_.begin(), normalized_added_.end(), longest_first);
  return {};
}

template <typename OnText, typename OnToken>
void Tokenizer::SplitOnAdded(std::string_view text, const std::vector<const AddedToken*>& tokens,
                             OnText&& on_text, OnToken&& on_token) const {
  if (tokens.empty()) {
    on_text(text);
    return;
  }
  std::size_t emitted = 0;  // text[emitted, ...) not yet handed out
  std::size_t i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (const AddedToken* tok : tokens) {  // longest first → leftmost-longest
      if (text.compare(i, tok->content.size(), tok->content) != 0) continue;
      if (tok->single_word) {
        std::size_t end = i + tok->content.size();
        bool left_ok = i == 0 || !IsWordByte(static_cast<unsigned char>(text[i - 1]));
        bool right_ok = end >= text.size() || !IsWordByte(static_cast<unsigned char>(text[end]));
        if (!left_ok || !right_ok) continue;
      }
      hit = tok;
      break;
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    std::size_t start = i;
    std::size_t end = i + hit->content.size();
    if (hit->lstrip) {
      while (start > emitted && std::isspace(static_cast<unsigned char>(text[start - 1]))) --start;
    }
    if (hit->rstrip) {
      while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    }
    if (start > emitted) on_text(text.substr(emitted, start - emitted));
    if (!on_token(hit->id)) return;
    emitted = end;
    i = end;
  }
  if (emitted < text.size()) on_text(text.substr(emitted));
}

std::vector<std::int32_t> Tokenizer::Encode(std::string_view text, std::size_t max_length,
                                            bool add_special_tokens) const {
  std::vector<std::int32_t> out;
  std::size_t specials = add_special_tokens ? num_special_tokens() : 0;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  if (max_length > 0) limit = max_length > specials ? max_length - specials : 0;
  out.reserve(std::min<std::size_t>(text.size() / 3 + 8, limit) + specials);
  if (add_special_tokens) out.insert(out.end(), prefix_ids_.begin(), prefix_ids_.end());
  const std::size_t base = out.size();
  std::size_t content_limit =
      limit == std::numeric_limits<std::size_t>::max() ? limit : base + limit;
  thread_local std::string scratch;  // reused: no allocation per call once warm
  bool more = content_limit > base;
  if (more) {
    SplitOnAdded(
        text, raw_added_,
        [&](std::string_view piece) {
          if (more) more = EncodeSegment(piece, content_limit, scratch, out);
        },
        [&](std::int32_t id) {
          if (!more) return false;
          out.push_back(id);
          more = out.size() < content_limit;
          return more;
        });
  }
  if (out.size() > content_limit) out.resize(content_limit);
  if (add_special_tokens) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

std::vector<std::int32_t> Tokenizer::WrapIds(const std::vector<std::int32_t>& content,
                                             std::size_t max_length) const {
  std::size_t specials = num_special_tokens();
  // Already wrapped: take the content between the specials.
  auto first = content.begin();
  auto last = content.end();
  if (specials > 0 && content.size() >= specials &&
      std::equal(prefix_ids_.begin(), prefix_ids_.end(), first) &&
      std::equal(suffix_ids_.begin(), suffix_ids_.end(),
                 last - static_cast<std::ptrdiff_t>(suffix_ids_.size()))) {
    first += static_cast<std::ptrdiff_t>(prefix_ids_.size());
    last -= static_cast<std::ptrdiff_t>(suffix_ids_.size());
  }
  std::size_t keep = static_cast<std::size_t>(last - first);
  if (max_length > 0) keep = std::min(keep, max_length > specials ? max_length - specials : 0);
  std::vector<std::int32_t> out;
  out.reserve(keep + specials);
  out.insert(out.end(), prefix_ids_.begin(), prefix_ids_.end());
  out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(keep));
  out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

bool Tokenizer::EncodeSegment(std::string_view raw, std::size_t limit, std::string& scratch,
                              std::vector<std::int32_t>& out) const {
  scratch.clear();
  normalizer_.Normalize(raw, scratch);
  bool more = true;
  SplitOnAdded(
      scratch, normalized_added_,
      [&](std::string_view piece) {
        if (more) more = EncodeNormalized(piece, limit, out);
      },
      [&](std::int32_t id) {
        if (!more) return false;
        out.push_back(id);
        more = out.size() < limit;
        return more;
      });
  return more;
}

bool Tokenizer::EncodeNormalized(std::string_view text, std::size_t limit,
                                 std::vector<std::int32_t>& out) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t word_start = 0;
  std::size_t i = 0;
  auto flush = [&](std::size_t end) {
    if (end > word_start) WordPiece(text.substr(word_start, end - word_start), out);
  };
  while (i < n) {
    std::size_t at = i;
    bool space;
    bool punct;
    if (p[i] < 0x80) {
      unsigned char c = p[i++];
      space = c == ' ' || (c >= 9 && c <= 13);
      punct = !space && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                         (c >= 123 && c <= 126));
    } else {
      char32_t cp = DecodeUtf8(text, i);
      space = IsWhitespace(cp);
      punct = !space && IsPunctuation(cp);
    }
    if (!space && !punct) continue;
    flush(at);
    if (punct) WordPiece(text.substr(at, i - at), out);
    word_start = i;
    if (out.size() >= limit) return false;
  }
  flush(n);
  return out.size() < limit;
}

void Tokenizer::WordPiece(std::string_view word, std::vector<std::int32_t>& out) const {
  const std::size_t n = word.size();
  std::size_t chars = 0;
  for (unsigned char c : word) chars += (c & 0xC0) != 0x80;
  if (chars > max_input_chars_per_word_) {
    out.push_back(unk_id_);
    return;
  }
  const std::size_t mark = out.size();
  const VocabMap& rest = continuing_prefix_.empty() ? vocab_ : continuation_;
  std::size_t start = 0;
  while (start < n) {
    std::size_t end = std::min(n, start + max_token_bytes_);
    while (end < n && end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) {
      --end;
    }
    const VocabMap& map = start == 0 ? vocab_ : rest;
    std::int32_t found = -1;
    while (end > start) {
      if (auto id = map.Find(word.substr(start, end - start))) {
        found = *id;
        break;
      }
      do {
        --end;
      } while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {
      out.resize(mark);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

std::vector<std::string> Tokenizer::IdsToTokens(const std::vector<std::int32_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (std::int32_t id : ids) {
    tokens.push_back(id >= 0 && static_cast<std::size_t>(id) < id_to_token_.size()
                         ? id_to_token_[static_cast<std::size_t>(id)]
                         : std::string());
  }
  return tokens;
}

std::optional<std::int32_t> Tokenizer::TokenToId(std::string_view token) const {
  return vocab_.Find(token);
}

}  // namespace vectorize::tokenizer
