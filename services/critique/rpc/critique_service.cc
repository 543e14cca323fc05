#include "services/critique/rpc/critique_service.h"
