#include "trace/trace-hw_ioasid.h"
