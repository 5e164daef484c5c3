#include "http/routes/openapi_routes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "datasets/dataset_service.h"
#include "datasets/hub_import.h"
#include "embeddings/embedding_service.h"
#include "http/http_metrics.h"
#include "http/routes/datasets_routes.h"
#include "http/routes/embeddings_routes.h"
#include "http/routes/models_routes.h"
#include "http/routes/system_routes.h"
#include "http/routes/task_events_routes.h"
#include "http/routes/task_json.h"
#include "http/routes/tasks_routes.h"
#include "http/routes/uploads_routes.h"
#include "http/routes/web_routes.h"
#include "storage/database.h"
#include "tasks/sqlite/sqlite_task_store.h"
#include "tasks/task_service.h"

namespace vectorize::http {
namespace {

namespace json = boost::json;

using Operation = std::pair<std::string, std::string>;  // (METHOD, /path/{param})

constexpr const char* kOperationKeys[] = {"get",     "put",  "post",  "delete",
                                          "options", "head", "patch", "trace"};

std::string Str(json::string_view s) { return std::string(s.data(), s.size()); }

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

json::value ParseDocument() {
  json::error_code ec;
  json::value doc = json::parse(OpenApiDocument(), ec);
  EXPECT_FALSE(ec) << "openapi.json does not parse: " << ec.message();
  return doc;
}

// A router with every route the product registers (the same calls as app/app.cc), over a real
// SQLite store in a temp dir; no engine (an API-only node has the same routes).
class ProductRouter {
 public:
  ProductRouter() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("vz-openapi-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    auto store = tasks::SqliteTaskStore::Open({(dir_ / "vectorize.db").string()});
    if (!store) throw std::runtime_error(store.error().message);
    store_ = std::move(*store);
    service_ = std::make_unique<tasks::TaskService>(*store_, nullptr, 3);
    AddTaskRoutes(router_, *service_);
    AddSystemRoutes(router_, *service_, nullptr, metrics_);
    AddOpenApiRoutes(router_);
    AddWebRoutes(router_);
    event_log_ = std::make_unique<tasks::TaskEventLog>(16, 0);
    events_ = std::make_unique<TaskEventStream>(*event_log_, *store_, TaskEventStream::Options{});
    AddTaskEventRoutes(router_, *events_);
    auto db = storage::Database::Open("sqlite://" + (dir_ / "vectorize.db").string(), 1);
    if (!db) throw std::runtime_error(db.error().message);
    database_ = std::move(*db);
    dataset_store_ = std::make_unique<datasets::DatasetStore>(*database_);
    dataset_service_ = std::make_unique<datasets::DatasetService>(
        *dataset_store_, *store_, datasets::DatasetServiceOptions{dir_, {}});
    remote_http_ = std::make_unique<remote::HttpClient>();
    hub_ = std::make_unique<remote::HubClient>(*remote_http_, "http://127.0.0.1:9", "");
    hub_importer_ = std::make_unique<datasets::HubImporter>(
        *dataset_service_, *store_, nullptr, *hub_, *remote_http_, datasets::HubImportOptions{});
    AddDatasetRoutes(router_, *dataset_service_, hub_importer_.get());
    // Models and uploads (no remote calls are made: only the routes are listed).
    github_ = std::make_unique<remote::GitHubClient>(*remote_http_, "http://127.0.0.1:9", "");
    model_registry_ = std::make_unique<models::ModelRegistry>(*database_);
    models::ModelServiceOptions mo;
    mo.data_dir = dir_;
    model_service_ = std::make_unique<models::ModelService>(*model_registry_, *database_, *store_,
                                                            nullptr, *hub_, *github_, mo);
    AddModelRoutes(router_, *model_service_);
    AddUploadRoutes(router_, *model_service_, dir_.string());
    AddEmbeddingRoutes(router_, embedding_service_);
  }
  ~ProductRouter() {
    // The database closes before its directory goes.
    events_.reset();
    model_service_.reset();
    model_registry_.reset();
    hub_importer_.reset();
    dataset_service_.reset();
    dataset_store_.reset();
    database_.reset();
    service_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Router& router() { return router_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<tasks::SqliteTaskStore> store_;
  std::unique_ptr<tasks::TaskService> service_;
  std::unique_ptr<tasks::TaskEventLog> event_log_;
  std::unique_ptr<TaskEventStream> events_;
  std::unique_ptr<storage::Database> database_;
  std::unique_ptr<datasets::DatasetStore> dataset_store_;
  std::unique_ptr<datasets::DatasetService> dataset_service_;
  std::unique_ptr<remote::HttpClient> remote_http_;
  std::unique_ptr<remote::HubClient> hub_;
  std::unique_ptr<datasets::HubImporter> hub_importer_;
  std::unique_ptr<remote::GitHubClient> github_;
  std::unique_ptr<models::ModelRegistry> model_registry_;
  std::unique_ptr<models::ModelService> model_service_;
  HttpMetrics metrics_;
  // Embeddings routes need a service; no model is ever found or loaded here.
  embeddings::ModelCache model_cache_{
      [](const embeddings::ModelRef&) -> Result<std::shared_ptr<embeddings::EmbeddingModel>> {
        return Fail(Error::NotFound("no models in this test"));
      },
      {},
      1};
  embeddings::EmbeddingService embedding_service_{
      [](std::string_view) -> Result<embeddings::ModelRef> {
        return Fail(Error::NotFound("no models in this test"));
      },
      model_cache_,
      nullptr,
      {}};
  Router router_;
};

std::set<Operation> DocumentedOperations(const json::value& doc) {
  std::set<Operation> ops;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const char* method : kOperationKeys) {
      if (item.as_object().contains(method) && std::string_view(method) != "head") {
        ops.emplace(Upper(method), Str(path));
      }
    }
  }
  return ops;
}

// Every "$ref" in the document, with the JSON pointer of where it occurs.
void CollectRefs(const json::value& v, const std::string& where,
                 std::vector<std::pair<std::string, std::string>>& refs) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.as_object()) {
      if (key == "$ref" && child.is_string()) {
        refs.emplace_back(where, Str(child.as_string()));
      } else {
        std::string part = Str(key);  // JSON pointer escaping: ~ → ~0, / → ~1
        for (std::size_t i = 0; i < part.size(); ++i) {
          if (part[i] == '~') part.replace(i, 1, "~0");
          if (part[i] == '/') part.replace(i, 1, "~1");
        }
        CollectRefs(child, where + "/" + part, refs);
      }
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      CollectRefs(v.as_array()[i], where + "/" + std::to_string(i), refs);
    }
  }
}

std::set<std::string> StringSet(const json::value& array) {
  std::set<std::string> out;
  for (const auto& v : array.as_array()) out.emplace(Str(v.as_string()));
  return out;
}

std::set<std::string> Keys(const json::object& o) {
  std::set<std::string> out;
  for (const auto& kv : o) out.emplace(Str(kv.key()));
  return out;
}

TEST(OpenApiTest, DocumentIsOpenApi31) {
  const json::value doc = ParseDocument();
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.as_object().contains("openapi"));
  EXPECT_TRUE(std::string_view(doc.at("openapi").as_string()).starts_with("3.1."))
      << doc.at("openapi");
  EXPECT_TRUE(doc.at("info").as_object().contains("title"));
  EXPECT_TRUE(doc.at("info").as_object().contains("version"));
}

// The contract that keeps the document honest: a route added without its description (or a
// description left behind after a route is removed) fails here.
TEST(OpenApiTest, DocumentDescribesExactlyTheRegisteredRoutes) {
  ProductRouter product;
  std::set<Operation> routes;
  for (const RouteInfo& r : product.router().Routes()) {
    if (r.method != "HEAD") routes.emplace(r.method, r.pattern);
  }
  const std::set<Operation> documented = DocumentedOperations(ParseDocument());
  for (const auto& [method, path] : routes) {
    EXPECT_TRUE(documented.contains({method, path}))
        << method << " " << path << " is routed but not described in src/http/routes/openapi.json";
  }
  for (const auto& [method, path] : documented) {
    EXPECT_TRUE(routes.contains({method, path}))
        << method << " " << path << " is described in openapi.json but no route serves it";
  }
  EXPECT_FALSE(routes.empty());
}

TEST(OpenApiTest, EveryRefResolves) {
  const json::value doc = ParseDocument();
  std::vector<std::pair<std::string, std::string>> refs;
  CollectRefs(doc, "", refs);
  EXPECT_GT(refs.size(), 10u);
  for (const auto& [where, ref] : refs) {
    ASSERT_TRUE(ref.starts_with("#/")) << where << ": only local refs are used, got " << ref;
    json::error_code ec;
    const json::value* target = doc.find_pointer(ref.substr(1), ec);
    EXPECT_TRUE(target != nullptr && !ec) << where << ": $ref " << ref << " does not resolve";
  }
}

TEST(OpenApiTest, EveryOperationIsCompleteAndDeclaresItsPathParameters) {
  const json::value doc = ParseDocument();
  std::set<std::string> operation_ids;
  auto deref = [&doc](const json::value& v) -> const json::value& {
    if (v.is_object() && v.as_object().contains("$ref")) {
      return doc.at_pointer(Str(v.at("$ref").as_string()).substr(1));
    }
    return v;
  };
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    const std::string path_text = Str(path);
    std::set<std::string> captures;
    for (std::size_t open = path_text.find('{'); open != std::string::npos;
         open = path_text.find('{', open + 1)) {
      captures.emplace(path_text.substr(open + 1, path_text.find('}', open) - open - 1));
    }
    for (const char* method : kOperationKeys) {
      const json::object& item_object = item.as_object();
      if (!item_object.contains(method)) continue;
      const json::object& op = item_object.at(method).as_object();
      const std::string name = Upper(method) + " " + path_text;
      ASSERT_TRUE(op.contains("operationId")) << name;
      EXPECT_TRUE(operation_ids.emplace(Str(op.at("operationId").as_string())).second)
          << name << ": duplicate operationId";
      ASSERT_TRUE(op.contains("tags")) << name;
      ASSERT_TRUE(op.contains("responses")) << name;
      EXPECT_FALSE(op.at("responses").as_object().empty()) << name;
      std::set<std::string> declared;
      if (const auto* params = op.if_contains("parameters")) {
        for (const auto& p : params->as_array()) {
          const json::value& param = deref(p);
          if (param.at("in").as_string() == "path") {
            EXPECT_TRUE(param.at("required").as_bool()) << name;
            declared.emplace(Str(param.at("name").as_string()));
          }
        }
      }
      EXPECT_EQ(declared, captures) << name << ": path parameters";
    }
  }
}

// The enums in the document follow the code's lists, so a new task type or error code shows up.
TEST(OpenApiTest, EnumsMatchTheCode) {
  const json::value doc = ParseDocument();
  const json::value& schemas = doc.at("components").at("schemas");
  std::set<std::string> types, statuses;
  for (auto t : tasks::kAllTaskTypes) types.emplace(tasks::TaskTypeName(t));
  for (auto s : tasks::kAllTaskStatuses) statuses.emplace(1, tasks::TaskStatusCode(s));
  EXPECT_EQ(StringSet(schemas.at("TaskType").at("enum")), types);
  EXPECT_EQ(StringSet(schemas.at("TaskStatus").at("enum")), statuses);

  const std::set<std::string> codes =
      StringSet(schemas.at("AppError").at("properties").at("code").at("enum"));
  for (ErrorCode code :
       {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kAlreadyExists,
        ErrorCode::kFailedPrecondition, ErrorCode::kAborted, ErrorCode::kUnavailable,
        ErrorCode::kResourceExhausted, ErrorCode::kCancelled, ErrorCode::kDeadlineExceeded,
        ErrorCode::kInternal}) {
    const Response r = ErrorResponse(Error{code, "x"});
    const std::string public_code = Str(json::parse(r.body).at("code").as_string());
    EXPECT_TRUE(codes.contains(public_code)) << public_code << " missing from AppError.code";
  }
  for (const char* router_code : {"METHOD_NOT_ALLOWED", "PAYLOAD_TOO_LARGE", "UNAUTHORIZED"}) {
    EXPECT_TRUE(codes.contains(router_code)) << router_code;
  }
}

// The record schemas list exactly the fields task_json.cc writes.
TEST(OpenApiTest, TaskSchemasMatchTheJsonTheRoutesWrite) {
  const json::value doc = ParseDocument();
  const json::value& schemas = doc.at("components").at("schemas");
  const json::object& record = schemas.at("TaskRecord").as_object();
  const std::set<std::string> record_fields = Keys(TaskRecordJson(tasks::TaskRecord{}));
  EXPECT_EQ(Keys(record.at("properties").as_object()), record_fields);
  EXPECT_EQ(StringSet(record.at("required")), record_fields);

  const json::value& extra = schemas.at("TaskDetail").at("allOf").at(1);
  std::set<std::string> detail_fields = record_fields;
  const auto extra_fields = Keys(extra.at("properties").as_object());
  detail_fields.insert(extra_fields.begin(), extra_fields.end());
  EXPECT_EQ(detail_fields, Keys(TaskDetailJson(tasks::TaskDetail{})));
  EXPECT_EQ(StringSet(extra.at("required")), extra_fields);
}

TEST(OpenApiTest, ServesTheDocumentAndTheDocsPage) {
  ProductRouter product;
  Request doc_request{.method = "GET", .path = "/openapi.json"};
  const Response doc = product.router().Dispatch(doc_request);
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.content_type, "application/json");
  EXPECT_EQ(doc.body, OpenApiDocument());

  Request docs_request{.method = "GET", .path = "/docs"};
  const Response docs = product.router().Dispatch(docs_request);
  EXPECT_EQ(docs.status, 200);
  EXPECT_EQ(docs.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(docs.body, DocsHtml());
  EXPECT_NE(docs.body.find("openapi.json"), std::string::npos);
  // Self-contained: nothing is loaded from elsewhere.
  for (const char* external : {"http://", "https://", "//cdn", "<link"}) {
    EXPECT_EQ(docs.body.find(external), std::string::npos) << external;
  }
  const auto csp = std::ranges::find_if(
      docs.headers, [](const auto& h) { return h.first == "Content-Security-Policy"; });
  ASSERT_NE(csp, docs.headers.end());
  EXPECT_NE(csp->second.find("connect-src 'self'"), std::string::npos);
}

TEST(WebRoutesTest, ServesThePageAndItsFilesWithTypesAndPolicy) {
  ProductRouter product;
  const std::pair<const char*, std::string_view> cases[] = {
      {"/", WebIndexHtml()},
      {"/dashboard", WebIndexHtml()},
      {"/static/app.js", WebAppJs()},
      {"/static/style.css", WebStyleCss()},
  };
  for (const auto& [path, body] : cases) {
    Request request{.method = "GET", .path = path};
    const Response r = product.router().Dispatch(request);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, body) << path;
    EXPECT_FALSE(r.body.empty()) << path;
    auto header = [&r](std::string_view name) {
      const auto it =
          std::ranges::find_if(r.headers, [name](const auto& h) { return h.first == name; });
      return it == r.headers.end() ? std::string() : it->second;
    };
    EXPECT_EQ(header("Cache-Control"), "no-cache") << path;
    EXPECT_NE(header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(header("Content-Security-Policy").find("unsafe-inline"), std::string::npos);
    for (const char* external : {"http://", "https://", "//cdn"}) {
      EXPECT_EQ(r.body.find(external), std::string::npos) << path << ": " << external;
    }
  }
  Request page{.method = "GET", .path = "/"};
  EXPECT_EQ(product.router().Dispatch(page).content_type, "text/html; charset=utf-8");
  Request js{.method = "GET", .path = "/static/app.js"};
  EXPECT_EQ(product.router().Dispatch(js).content_type, "text/javascript; charset=utf-8");
  Request css{.method = "GET", .path = "/static/style.css"};
  EXPECT_EQ(product.router().Dispatch(css).content_type, "text/css; charset=utf-8");
  // The page loads its files with relative URLs (so it also works under /v1/api/).
  EXPECT_NE(WebIndexHtml().find("src=\"static/app.js\""), std::string::npos);
  EXPECT_NE(WebIndexHtml().find("href=\"static/style.css\""), std::string::npos);
}

}  // namespace
}  // namespace vectorize::http
