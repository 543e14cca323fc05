#include "services/scoring/rpc/scoring_service.h"
