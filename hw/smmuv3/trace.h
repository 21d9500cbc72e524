#include "trace/trace-hw_smmuv3.h"
