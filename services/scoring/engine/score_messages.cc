#include "services/scoring/engine/score_messages.h"

#include <google/protobuf/util/time_util.h>

namespace rally::scoring {

using google::protobuf::util::TimeUtil;

v1::ScoreInputs to_message(const ModelInputs& inputs, std::chrono::sys_seconds reference) {
  v1::ScoreInputs message;
  if (inputs.input_usd_per_1m_tokens) message.set_input_usd_per_1m_tokens(*inputs.input_usd_per_1m_tokens);
  if (inputs.output_usd_per_1m_tokens) message.set_output_usd_per_1m_tokens(*inputs.output_usd_per_1m_tokens);
  message.set_context_window_tokens(inputs.context_window_tokens);
  message.set_max_output_tokens(inputs.max_output_tokens);
  message.set_release_date(inputs.release_date);
  message.set_last_updated(inputs.last_updated);
  message.set_knowledge_cutoff(inputs.knowledge_cutoff);
  message.set_reasoning(inputs.reasoning);
  message.set_tool_call(inputs.tool_call);
  message.set_structured_output(inputs.structured_output);
  message.set_attachment(inputs.attachment);
  for (const std::string& modality : inputs.input_modalities) message.add_input_modalities(modality);
  for (const std::string& modality : inputs.output_modalities) message.add_output_modalities(modality);
  message.set_open_weights(inputs.open_weights);
  message.set_time_to_first_token_ms(inputs.time_to_first_token_ms);
  message.set_tokens_per_second(inputs.tokens_per_second);
  message.set_error_rate(inputs.error_rate);
  message.set_performance_source(std::string(performance_source_name(inputs.performance_source)));
  if (inputs.arena_rating) message.set_arena_rating(*inputs.arena_rating);
  *message.mutable_reference_time() = TimeUtil::SecondsToTimestamp(reference.time_since_epoch().count());
  return message;
}

ModelInputs inputs_of(const v1::ScoreInputs& message) {
  ModelInputs inputs;
  if (message.has_input_usd_per_1m_tokens())
    inputs.input_usd_per_1m_tokens = message.input_usd_per_1m_tokens();
  if (message.has_output_usd_per_1m_tokens()) {
    inputs.output_usd_per_1m_tokens = message.output_usd_per_1m_tokens();
  }
  inputs.context_window_tokens = message.context_window_tokens();
  inputs.max_output_tokens = message.max_output_tokens();
  inputs.release_date = message.release_date();
  inputs.last_updated = message.last_updated();
  inputs.knowledge_cutoff = message.knowledge_cutoff();
  inputs.reasoning = message.reasoning();
  inputs.tool_call = message.tool_call();
  inputs.structured_output = message.structured_output();
  inputs.attachment = message.attachment();
  inputs.input_modalities.assign(message.input_modalities().begin(), message.input_modalities().end());
  inputs.output_modalities.assign(message.output_modalities().begin(), message.output_modalities().end());
  inputs.open_weights = message.open_weights();
  inputs.time_to_first_token_ms = message.time_to_first_token_ms();
  inputs.tokens_per_second = message.tokens_per_second();
  inputs.error_rate = message.error_rate();
  inputs.performance_source =
      message.performance_source() == "measured" ? PerformanceSource::kMeasured : PerformanceSource::kDefault;
  if (message.has_arena_rating()) inputs.arena_rating = message.arena_rating();
  return inputs;
}

std::chrono::sys_seconds reference_of(const v1::ScoreInputs& message) {
  return std::chrono::sys_seconds(
      std::chrono::seconds(TimeUtil::TimestampToSeconds(message.reference_time())));
}

v1::ScoreWeights to_message(const ScoreWeights& weights) {
  v1::ScoreWeights message;
  message.set_response_speed(weights.response_speed);
  message.set_model_efficiency(weights.model_efficiency);
  message.set_cost_effectiveness(weights.cost_effectiveness);
  message.set_capability(weights.capability);
  message.set_recency(weights.recency);
  return message;
}

ScoreWeights weights_of(const v1::ScoreWeights& message) {
  return {message.response_speed(), message.model_efficiency(), message.cost_effectiveness(),
          message.capability(), message.recency()};
}

WeightOverrides overrides_of(const v1::ScoreWeights& message) {
  WeightOverrides overrides;
  if (message.has_response_speed()) overrides.response_speed = message.response_speed();
  if (message.has_model_efficiency()) overrides.model_efficiency = message.model_efficiency();
  if (message.has_cost_effectiveness()) overrides.cost_effectiveness = message.cost_effectiveness();
  if (message.has_capability()) overrides.capability = message.capability();
  if (message.has_recency()) overrides.recency = message.recency();
  return overrides;
}

v1::ScoreComponents to_message(const ScoreComponents& components) {
  v1::ScoreComponents message;
  message.set_speed_score(components.speed);
  message.set_efficiency_score(components.efficiency);
  message.set_cost_score(components.cost);
  message.set_capability_score(components.capability);
  message.set_recency_score(components.recency);
  return message;
}

ScoreComponents components_of(const v1::ScoreComponents& message) {
  return {message.speed_score(), message.efficiency_score(), message.cost_score(), message.capability_score(),
          message.recency_score()};
}

}  // namespace rally::scoring
