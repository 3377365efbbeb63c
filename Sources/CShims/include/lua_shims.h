#ifndef WARREN_LUA_SHIMS_H
#define WARREN_LUA_SHIMS_H
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#endif
