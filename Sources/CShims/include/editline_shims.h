#ifndef WARREN_EDITLINE_SHIMS_H
#define WARREN_EDITLINE_SHIMS_H
#include <stdio.h>
#include <histedit.h>
#endif
