#include "services/critique/domain/critic_instruction.h"

namespace rally::critique {

std::string_view critic_instruction() {
  return "You are a strict critic of prompts written for large language models. Evaluate the user's prompt "
         "that follows and decide whether it is a good or a bad prompt: is it clear, specific and "
         "answerable? Give it a score out of 10 and a short description of your reasoning. Answer only "
         "with plain JSON, no code fences and no other text, in exactly this form: "
         "{\"score\": <number from 0 to 10>, \"description\": \"<one or two sentences>\"}";
}

}  // namespace rally::critique
