#include "services/llm-proxy/rpc/llm_proxy_service.h"
