#include "trace/trace-hw_vtd.h"
