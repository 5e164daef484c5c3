#include "http/routes/embeddings_routes.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>

#include "http/http_metrics.h"
#include "http/routes/embeddings_json.h"

namespace vectorize::http {
namespace {

using embeddings::EmbeddingService;

// ErrorResponse, with the request-limit errors answered 413 rather than 429.
Response EmbeddingsError(const Error& error) {
  Response r = ErrorResponse(error);
  if (error.public_code == embeddings::kPayloadTooLarge) r.status = 413;
  return r;
}

Response CreateEmbeddings(EmbeddingService& service, Request& req) {
  auto body = ParseEmbeddingsRequest(req.body);
  if (!body) return EmbeddingsError(body.error());
  auto result = service.Embed(body->request);
  if (!result) return EmbeddingsError(result.error());
  return Response::Text(200, EmbeddingsResponseJson(*result, body->request.model, body->format),
                        "application/json");
}

Response GetEmbeddingCounter(EmbeddingService& service, Request& req) {
  auto days = service.Counter(req.PathParam("tag"));
  if (!days) return EmbeddingsError(days.error());
  boost::json::object out;
  for (const auto& [day, count] : *days) out[day] = count;
  return Response::Json(200, out);
}

}  // namespace

void AddEmbeddingRoutes(Router& router, EmbeddingService& service) {
  // Blocking: a request waits for its forward pass (and maybe a model load).
  router.AddBlocking("POST", "/embeddings",
                     [&service](Request& r) { return CreateEmbeddings(service, r); });
  router.AddBlocking("POST", "/v1/embeddings",
                     [&service](Request& r) { return CreateEmbeddings(service, r); });
  router.Add("GET", "/embeddings/counter/{tag}",
             [&service](Request& r) { return GetEmbeddingCounter(service, r); });
}

void RenderEmbeddingMetrics(const EmbeddingService& service, std::string& out) {
  const auto usage = service.Usage();
  const auto series = [&](std::string_view name, std::string_view help, auto field) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const auto& u : usage) {
      out += name;
      out += "{model=\"";
      AppendLabelValue(out, u.model);
      out += fmt::format("\"}} {}\n", u.*field);
    }
  };
  series("vectorize_embeddings_requests_total",
         "Embedding requests served, by model, since the process started.",
         &embeddings::ModelUsage::requests);
  series("vectorize_embeddings_inputs_total",
         "Embeddings returned (one per input), by model, since the process started.",
         &embeddings::ModelUsage::inputs);
  series("vectorize_embeddings_tokens_total",
         "Token ids fed to the model (usage.prompt_tokens), by model, since the process started.",
         &embeddings::ModelUsage::tokens);
  out += fmt::format(
      "# HELP vectorize_embeddings_models_loaded Models loaded in memory for embeddings.\n"
      "# TYPE vectorize_embeddings_models_loaded gauge\n"
      "vectorize_embeddings_models_loaded {}\n",
      service.loaded_models());
}

}  // namespace vectorize::http
