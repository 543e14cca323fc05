// What the oracle worker asks the LLM for a prompt: the original app's critic instruction (score out of 10
// plus a description, plain JSON only) as the system message and the user's prompt as the user message.
// Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

namespace rally::critique {

// The system message. The LLM simulator's shipped rule (deploy/simulator-rules.json) matches its opening
// words, so a change here must keep "You are a strict critic" or update the rule.
std::string_view critic_instruction();

}  // namespace rally::critique
