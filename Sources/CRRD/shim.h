#ifndef H2E_CRRD_SHIM_H
#define H2E_CRRD_SHIM_H
#include <rrd.h>
#endif
