// Header-only target: see include/CPrefetch.h.
#include "CPrefetch.h"
