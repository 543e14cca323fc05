#include "services/arena/rpc/arena_service.h"
