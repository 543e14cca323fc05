#include "services/llm-proxy/domain/catalog.h"

#include <boost/json.hpp>
#include <cmath>
#include <set>

namespace rally::llm_proxy {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;

// Reads fields of one JSON object, remembering the first problem with a path that names the field.
class FieldReader {
 public:
  FieldReader(const json::object& object, std::string path) : object_(object), path_(std::move(path)) {}

  const std::optional<std::string>& problem() const { return problem_; }

  std::string string(std::string_view key, bool required, std::string_view fallback = {}) {
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) {
      if (required) fail(key, "is required");
      return std::string(fallback);
    }
    if (!value->is_string()) {
      fail(key, "must be a string");
      return {};
    }
    return std::string(value->get_string());
  }

  double number(std::string_view key, double fallback, double min) {
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) return fallback;
    if (!value->is_number()) {
      fail(key, "must be a number >= " + format(min));
      return fallback;
    }
    const double result = value->to_number<double>();
    if (!std::isfinite(result) || result < min) fail(key, "must be a number >= " + format(min));
    return result;
  }

  bool boolean(std::string_view key, bool fallback) {
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) return fallback;
    if (!value->is_bool()) {
      fail(key, "must be true or false");
      return fallback;
    }
    return value->get_bool();
  }

  std::vector<std::string> strings(std::string_view key) {
    std::vector<std::string> result;
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) return result;
    if (!value->is_array()) {
      fail(key, "must be an array of strings");
      return result;
    }
    for (const json::value& item : value->get_array()) {
      if (!item.is_string()) {
        fail(key, "must be an array of strings");
        return {};
      }
      result.emplace_back(item.get_string());
    }
    return result;
  }

  const json::object* object(std::string_view key) {
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) {
      fail(key, "must be an object");
      return nullptr;
    }
    return &value->get_object();
  }

  void fail(std::string_view key, const std::string& what) {
    if (!problem_) problem_ = path_ + "." + std::string(key) + ": " + what;
  }

  const std::string& path() const { return path_; }

 private:
  static std::string format(double v) {
    std::string text = json::serialize(json::value(v));
    if (text.ends_with("E0")) text.resize(text.size() - 2);  // Boost.JSON prints 0 as 0E0
    return text;
  }

  const json::object& object_;
  std::string path_;
  std::optional<std::string> problem_;
};

// scheme://host[:port] with nothing after it: paths are the provider's to choose.
bool is_base_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  return !rest.empty() && rest.find_first_of("/?# ") == std::string_view::npos;
}

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidRequest, std::move(message));
}

}  // namespace

std::string_view provider_kind_name(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi:
      return "openai";
    case ProviderKind::kAnthropic:
      return "anthropic";
    case ProviderKind::kOpenAiCompatible:
      return "openai-compatible";
  }
  return "openai";
}

std::optional<ProviderKind> parse_provider_kind(std::string_view name) {
  for (ProviderKind kind :
       {ProviderKind::kOpenAi, ProviderKind::kAnthropic, ProviderKind::kOpenAiCompatible}) {
    if (provider_kind_name(kind) == name) return kind;
  }
  return std::nullopt;
}

const CatalogModel* Catalog::find(std::string_view name) const {
  for (const CatalogModel& model : models_) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

std::vector<std::string> Catalog::enabled_names() const {
  std::vector<std::string> names;
  for (const CatalogModel& model : models_) {
    if (model.enabled) names.push_back(model.name);
  }
  return names;
}

std::size_t Catalog::route_to_simulator(
    std::string_view simulator_base_url,
    const std::function<std::optional<std::string>(const std::string&)>& env) {
  std::size_t moved = 0;
  for (CatalogModel& model : models_) {
    if (model.api_key_env.empty()) continue;  // a keyless local server is used as configured
    const std::optional<std::string> key = env(model.api_key_env);
    if (key && !key->empty()) continue;
    model.base_url = std::string(simulator_base_url);
    model.simulated = true;
    ++moved;
  }
  return moved;
}

common::Result<Catalog> parse_catalog(std::string_view json_text) {
  boost::system::error_code ec;
  const json::value root = json::parse(json_text, ec);
  if (ec) return invalid("catalog is not valid JSON: " + ec.message());
  if (!root.is_object()) return invalid("catalog: must be a JSON object with a \"models\" array");
  const json::value* models_value = root.get_object().if_contains("models");
  if (models_value == nullptr || !models_value->is_array() || models_value->get_array().empty()) {
    return invalid("catalog.models: must be a non-empty array");
  }

  std::vector<CatalogModel> models;
  std::set<std::string, std::less<>> names;
  const json::array& entries = models_value->get_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string index_path = "models[" + std::to_string(i) + "]";
    if (!entries[i].is_object()) return invalid(index_path + ": must be an object");
    const json::object& entry = entries[i].get_object();

    CatalogModel model;
    {
      FieldReader name_reader(entry, index_path);
      model.name = name_reader.string("name", true);
      if (name_reader.problem()) return invalid(*name_reader.problem());
    }
    FieldReader field(entry, index_path + " (" + model.name + ")");
    if (model.name.empty()) field.fail("name", "must not be empty");
    model.display_name = field.string("display_name", false, model.name);
    const std::string provider = field.string("provider", true);
    if (const auto kind = parse_provider_kind(provider)) {
      model.provider = *kind;
    } else if (!field.problem()) {
      field.fail("provider", "must be openai, anthropic or openai-compatible, got \"" + provider + "\"");
    }
    model.upstream_model = field.string("upstream_model", false, model.name);
    model.base_url = field.string("base_url", true);
    if (!field.problem() && !is_base_url(model.base_url)) {
      field.fail("base_url", "must be http(s)://host[:port] without a path, got \"" + model.base_url + "\"");
    }
    model.api_key_env = field.string("api_key_env", false);
    if (const json::object* price = field.object("price")) {
      FieldReader price_field(*price, field.path() + ".price");
      model.price.usd_per_1k_tokens = price_field.number("usd_per_1k_tokens", 0, 0);
      model.price.input_usd_per_1m_tokens = price_field.number("input_usd_per_1m_tokens", 0, 0);
      model.price.output_usd_per_1m_tokens = price_field.number("output_usd_per_1m_tokens", 0, 0);
      if (price_field.problem()) return invalid(*price_field.problem());
    } else if (!field.problem()) {
      field.fail("price", "is required");
    }
    model.enabled = field.boolean("enabled", true);
    model.sampling_weight = field.number("sampling_weight", 1.0, 0);
    model.fallbacks = field.strings("fallbacks");
    const double max_tokens = field.number("default_max_tokens", 1024, 1);
    if (!field.problem() && (max_tokens != std::floor(max_tokens) || max_tokens > 1'000'000)) {
      field.fail("default_max_tokens", "must be a whole number from 1 to 1000000");
    }
    model.default_max_tokens = static_cast<std::uint32_t>(max_tokens);
    model.models_dev_id = field.string("models_dev_id", false);
    if (field.problem()) return invalid(*field.problem());
    if (!names.insert(model.name).second) return invalid(field.path() + ".name: is listed twice");
    models.push_back(std::move(model));
  }

  for (std::size_t i = 0; i < models.size(); ++i) {
    for (const std::string& fallback : models[i].fallbacks) {
      const std::string path = "models[" + std::to_string(i) + "] (" + models[i].name + ").fallbacks";
      if (fallback == models[i].name) return invalid(path + ": a model cannot be its own fallback");
      if (!names.contains(fallback)) return invalid(path + ": unknown model \"" + fallback + "\"");
    }
  }
  return Catalog(std::move(models));
}

double completion_cost_usd(const ModelPricing& price, std::uint64_t prompt_tokens,
                           std::uint64_t completion_tokens) {
  return (static_cast<double>(prompt_tokens) * price.input_usd_per_1m_tokens +
          static_cast<double>(completion_tokens) * price.output_usd_per_1m_tokens) /
         1'000'000.0;
}

}  // namespace rally::llm_proxy
