#pragma once
// A BERT WordPiece tokenizer read from a Hugging Face `tokenizer.json`, producing the same ids as
// the `tokenizers` library for the same file: added/special tokens matched in the raw text,
// BertNormalizer, BertPreTokenizer (whitespace split, every punctuation character isolated),
// WordPiece (greedy longest-match-first, `##` continuation, over-long words → [UNK]) and the
// post-processor (TemplateProcessing / BertProcessing / RobertaProcessing single-sequence
// template, e.g. [CLS] … [SEP]), with truncation to a maximum length that includes the specials.
//
// Supported components: normalizer BertNormalizer or null; pre_tokenizer BertPreTokenizer; model
// WordPiece. Anything else is refused at load with a clear
// error (a model would otherwise embed silently wrong tokens).
//
// Thread safety: immutable after loading; Encode may be called from any number of threads.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/vocab_map.h"

namespace vectorize::tokenizer {

class Tokenizer {
 public:
  // Parses tokenizer.json text. Errors: kInvalidArgument naming what is malformed or unsupported.
  [[nodiscard]] static Result<std::shared_ptr<const Tokenizer>> FromJson(std::string_view json);
  // Reads and parses a file. Errors: kNotFound (missing), kInvalidArgument (malformed).
  [[nodiscard]] static Result<std::shared_ptr<const Tokenizer>> FromFile(
      const std::filesystem::path& path);

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`, with the post-processor's special tokens when `add_special_tokens`.
  // max_length > 0 truncates the content so that the result (specials included) has at most
  // max_length ids (never fewer than the specials). 0 = no limit.
  [[nodiscard]] std::vector<std::int32_t> Encode(std::string_view text, std::size_t max_length = 0,
                                                 bool add_special_tokens = true) const;

  // Pre-tokenised ids wrapped with the special tokens and truncated like Encode (the service's
  // path for OpenAI token-id input). Ids that already start with the prefix specials and end with
  // the suffix ones (e.g. [CLS] … [SEP], as Hugging Face's tokenizer(text)["input_ids"] gives them)
  // are not wrapped a second time: the same sequence comes out either way.
  [[nodiscard]] std::vector<std::int32_t> WrapIds(const std::vector<std::int32_t>& content,
                                                  std::size_t max_length = 0) const;

  // The token strings of ids (for debugging); unknown ids read as "".
  [[nodiscard]] std::vector<std::string> IdsToTokens(const std::vector<std::int32_t>& ids) const;
  [[nodiscard]] std::optional<std::int32_t> TokenToId(std::string_view token) const;
  // Number of ids (vocab plus added tokens): every valid id is < vocab_size().
  [[nodiscard]] std::size_t vocab_size() const { return id_to_token_.size(); }
  [[nodiscard]] std::size_t num_special_tokens() const {
    return prefix_ids_.size() + suffix_ids_.size();
  }
  [[nodiscard]] std::int32_t unk_id() const { return unk_id_; }
  // The padding id from the file's padding section or "[PAD]"; 0 when neither is there.
  [[nodiscard]] std::int32_t pad_id() const { return pad_id_; }

 private:
  struct AddedToken {
    std::string content;
    std::int32_t id = 0;
    bool normalized = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
  };
  Tokenizer() : normalizer_(BertNormalizerOptions{}) {}
  Status Load(std::string_view json);

  // Splits `text` on the given added tokens (leftmost-longest) and calls on_text / on_token.
  template <typename OnText, typename OnToken>
  void SplitOnAdded(std::string_view text, const std::vector<const AddedToken*>& tokens,
                    OnText&& on_text, OnToken&& on_token) const;
  // Normalises, splits on normalised added tokens, pre-tokenises and runs WordPiece over one
  // raw segment. Returns false once `limit` ids have been produced.
  bool EncodeSegment(std::string_view raw, std::size_t limit, std::string& scratch,
                     std::vector<std::int32_t>& out) const;
  bool EncodeNormalized(std::string_view text, std::size_t limit,
                        std::vector<std::int32_t>& out) const;
  void WordPiece(std::string_view word, std::vector<std::int32_t>& out) const;

  BertNormalizer normalizer_;
  bool bert_pre_tokenizer_ = true;
  std::vector<std::string> id_to_token_;  // owns the strings the maps below view
  std::vector<std::unique_ptr<std::string>> extra_strings_;
  VocabMap vocab_;         // every token → id
  VocabMap continuation_;  // "##xyz" tokens keyed by "xyz"
  std::string continuing_prefix_ = "##";
  std::size_t max_input_chars_per_word_ = 100;
  std::size_t max_token_bytes_ = 0;
  std::int32_t unk_id_ = 0;
  std::int32_t pad_id_ = 0;
  std::vector<AddedToken> added_;
  std::vector<const AddedToken*> raw_added_;         // normalized == false
  std::vector<const AddedToken*> normalized_added_;  // normalized == true (content normalised)
  std::vector<std::int32_t> prefix_ids_;             // before the sequence, e.g. [CLS]
  std::vector<std::int32_t> suffix_ids_;             // after it, e.g. [SEP]
};

}  // namespace vectorize::tokenizer
