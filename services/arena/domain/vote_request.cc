#include "services/arena/domain/vote_request.h"

#include <algorithm>
#include <string_view>

namespace rally::arena {
namespace {

constexpr std::string_view kInvalidInput = "Invalid input";
constexpr std::string_view kDraw = "draw";

common::Error invalid_input(std::vector<std::pair<std::string, std::string>> details = {}) {
  return common::Error(common::ErrorCode::kInvalidRequest, std::string(kInvalidInput), std::move(details));
}

}  // namespace

common::Result<ValidVote> validate_vote(const VoteInput& input,
                                        const std::vector<std::string>& known_models) {
  const std::pair<const std::optional<std::string>*, const char*> fields[] = {
      {&input.model_a, "modelA"}, {&input.model_b, "modelB"}, {&input.result, "result"}};
  for (const auto& [value, field] : fields) {
    if (!value->has_value() || (*value)->empty()) return invalid_input({{"field", field}});
  }
  const std::string& model_a = *input.model_a;
  const std::string& model_b = *input.model_b;
  const std::string& result = *input.result;
  if (model_a == model_b) return invalid_input();

  VoteOutcome outcome = VoteOutcome::kTie;
  if (result == kDraw) {
    outcome = VoteOutcome::kTie;
  } else if (result == model_a) {
    outcome = VoteOutcome::kModelA;
  } else if (result == model_b) {
    outcome = VoteOutcome::kModelB;
  } else {
    return invalid_input({{"field", "result"}});
  }

  for (const std::string* model : {&model_a, &model_b}) {
    if (std::find(known_models.begin(), known_models.end(), *model) == known_models.end()) {
      return common::Error(common::ErrorCode::kModelNotFound, "Model not found", {{"model", *model}});
    }
  }
  return ValidVote{model_a, model_b, outcome};
}

}  // namespace rally::arena
