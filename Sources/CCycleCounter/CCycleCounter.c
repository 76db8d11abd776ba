// Header-only target: see include/CCycleCounter.h.
#include "CCycleCounter.h"
