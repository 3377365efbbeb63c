#include "lua_shims.h"
