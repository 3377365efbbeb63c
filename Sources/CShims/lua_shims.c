#include "lua_shims.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static warren_dispatch_fn dispatch = NULL;
void warren_set_dispatch(warren_dispatch_fn fn) { dispatch = fn; }

// MARK: Allocator with a cap

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    warren_limits *lim = (warren_limits *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        lim->used -= old;
        return NULL;
    }
    // Shrinking never fails. Growing past the cap fails, except while a host function runs
    // (Swift code must never see a Lua error) or while a killed chunk unwinds.
    if (nsize > old && lim->used - old + nsize > lim->cap && lim->in_host == 0 && lim->kill == WARREN_KILL_NONE) {
        lim->kill = WARREN_KILL_MEMORY;
        extern void warren_arm_kill(lua_State *L);
        if (lim->L) warren_arm_kill(lim->L);
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    lim->used = lim->used - old + nsize;
    return p;
}

lua_State *warren_newstate(size_t cap, void *host) {
    warren_limits *lim = calloc(1, sizeof(warren_limits));
    if (!lim) return NULL;
    lim->cap = cap;
    lim->host = host;
    lua_State *L = lua_newstate(capped_alloc, lim);
    if (!L) { free(lim); return NULL; }
    lim->L = L;
    return L;
}

warren_limits *warren_limits_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (warren_limits *)ud;
}

void *warren_host_of(lua_State *L) { return warren_limits_of(L)->host; }

// MARK: Instruction budget, interrupts, kills

static lua_State *volatile interrupt_target = NULL;

static const char *kill_message(warren_kill_reason r) {
    switch (r) {
    case WARREN_KILL_BUDGET: return "instruction budget exceeded";
    case WARREN_KILL_MEMORY: return "memory cap exceeded";
    case WARREN_KILL_INTERRUPT: return "interrupted";
    default: return "stopped";
    }
}

static void hook(lua_State *L, lua_Debug *ar) {
    warren_limits *lim = warren_limits_of(L);
    if (lim->kill == WARREN_KILL_NONE) {
        if (lim->interrupt) {
            lim->kill = WARREN_KILL_INTERRUPT;
        } else if (ar->event == LUA_HOOKCOUNT) {
            lim->executed += WARREN_HOOK_EVERY;
            if (lim->budget > 0 && lim->executed > lim->budget) lim->kill = WARREN_KILL_BUDGET;
        }
        if (lim->kill == WARREN_KILL_NONE) return;
        // From now on fire on every instruction, so that a pcall in the chunk cannot swallow it.
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    }
    luaL_error(L, "%s", kill_message(lim->kill));
}

void warren_arm_kill(lua_State *L) { lua_sethook(L, hook, LUA_MASKCOUNT, 1); }

void warren_arm_hook(lua_State *L) { lua_sethook(L, hook, LUA_MASKCOUNT, WARREN_HOOK_EVERY); }

void warren_reset_limits(lua_State *L) {
    warren_limits *lim = warren_limits_of(L);
    lim->kill = WARREN_KILL_NONE;
    lim->executed = 0;
    lim->in_host = 0;
    lim->interrupt = 0;
    warren_arm_hook(L);
}

void warren_interrupt_state(lua_State *L) {
    warren_limits_of(L)->interrupt = 1;
    lua_sethook(L, hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

// A request that arrived while no state was running a top-level call: the next call claims it.
static volatile sig_atomic_t interrupt_unclaimed = 0;

void warren_request_interrupt(void) {
    lua_State *L = interrupt_target;
    if (L) warren_interrupt_state(L); else interrupt_unclaimed = 1;
}

void warren_set_interrupt_target(lua_State *L) {
    lua_State *previous = interrupt_target;
    // A request the previous call never acted on (it ended before its hook ran) waits for the next.
    if (previous && previous != L) {
        warren_limits *lim = warren_limits_of(previous);
        if (lim->interrupt && lim->kill == WARREN_KILL_NONE) interrupt_unclaimed = 1;
    }
    interrupt_target = L;
    if (L && interrupt_unclaimed) {
        interrupt_unclaimed = 0;
        warren_interrupt_state(L);
    }
}
int warren_interrupt_pending(lua_State *L) { return warren_limits_of(L)->interrupt; }

int warren_interrupt_requested(void) {
    lua_State *L = interrupt_target;
    return L ? warren_limits_of(L)->interrupt : interrupt_unclaimed;
}

void warren_discard_interrupt(void) { interrupt_unclaimed = 0; }

// MARK: Signals

static volatile sig_atomic_t termination_signal = 0;
static int devnull_fd = -1;
#define WARREN_MAX_WATCHED 4
static volatile int watched_fds[WARREN_MAX_WATCHED] = {-1, -1, -1, -1};

static void on_signal(int sig) {
    if (sig != SIGINT) {
        termination_signal = sig;
        // A read blocked on the operator's input (a prompt) must end: the input now reads as
        // its end. dup2 is async-signal-safe.
        for (int i = 0; i < WARREN_MAX_WATCHED; i++) {
            int fd = watched_fds[i];
            if (fd >= 0 && devnull_fd >= 0) dup2(devnull_fd, fd);
        }
    }
    warren_request_interrupt();
}

void warren_install_signal_handlers(void) {
    if (devnull_fd < 0) devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    // A closed standard output (`warren run ... | head -1`) must not end a run: writes fail instead.
    signal(SIGPIPE, SIG_IGN);
}

int warren_termination_signal(void) { return termination_signal; }

void warren_watch_input_fd(int fd) {
    for (int i = 0; i < WARREN_MAX_WATCHED; i++) {
        if (watched_fds[i] == fd) return;
    }
    for (int i = 0; i < WARREN_MAX_WATCHED; i++) {
        if (watched_fds[i] < 0) { watched_fds[i] = fd; return; }
    }
}

void warren_unwatch_input_fd(int fd) {
    for (int i = 0; i < WARREN_MAX_WATCHED; i++) {
        if (watched_fds[i] == fd) watched_fds[i] = -1;
    }
}

// MARK: Host functions

static int trampoline(lua_State *L) {
    warren_limits *lim = warren_limits_of(L);
    int index = (int)lua_tointeger(L, lua_upvalueindex(1));
    lim->in_host++;
    int n = dispatch ? dispatch(L, index) : 0;
    lim->in_host--;
    if (n == WARREN_HOST_ERROR_AT) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    if (n == WARREN_HOST_ERROR) return lua_error(L);
    return n;
}

void warren_push_host_function(lua_State *L, int index) {
    lua_pushinteger(L, index);
    lua_pushcclosure(L, trampoline, 1);
}

// MARK: Loading and calling

int warren_load(lua_State *L, const char *source, size_t length, const char *chunkname) {
    return luaL_loadbufferx(L, source, length, chunkname, "t");
}

static int traceback_handler(lua_State *L) {
    warren_limits *lim = warren_limits_of(L);
    if (lim->kill != WARREN_KILL_NONE) {
        // Stopped by the runtime: no metamethod of the error value runs here (it would run with
        // hooks off, out of reach of the budget and Ctrl-C).
        lua_pushstring(L, kill_message(lim->kill));
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int warren_pcall(lua_State *L, int nargs, int nresults) {
    warren_limits *lim = warren_limits_of(L);
    int saved_in_host = lim->in_host;
    lim->in_host = 0;  // Lua code called back from a host function is capped again
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    lim->in_host = saved_in_host;
    return status;
}

static int tostring_protected(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

int warren_tostring(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, tostring_protected);
    lua_pushvalue(L, idx);
    return lua_pcall(L, 1, 1, 0);
}

// MARK: Sandbox

static const char *const sandbox_note =
    "warren runbooks may use base, string, table, math, utf8 and os.time/clock/date";

static int refused_global(lua_State *L) {
    // __index(_G, key): known-refused names raise; anything else is nil as usual.
    static const char *const refused[] = {"io", "debug", "package", "dofile", "loadfile",
                                          "coroutine", "collectgarbage", NULL};
    const char *key = lua_tostring(L, 2);
    if (key) {
        for (int i = 0; refused[i]; i++) {
            if (strcmp(key, refused[i]) == 0)
                return luaL_error(L, "'%s' is not available: %s", key, sandbox_note);
        }
    }
    return 0;
}

static int refused_os(lua_State *L) {
    const char *key = lua_tostring(L, 2);
    return luaL_error(L, "'os.%s' is not available: %s", key ? key : "?", sandbox_note);
}

static int refused_dump(lua_State *L) {
    return luaL_error(L, "'string.dump' is not available: binary chunks cannot be loaded in warren");
}

// load(chunk [, chunkname [, mode [, env]]]) restricted to text chunks.
static int safe_load(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs >= 3 && !lua_isnil(L, 3)) {
        const char *mode = luaL_checkstring(L, 3);
        if (strchr(mode, 'b'))
            return luaL_error(L, "load: binary chunks are not allowed (mode '%s'); warren loads text only", mode);
    }
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        if (len > 0 && s[0] == LUA_SIGNATURE[0]) {
            luaL_pushfail(L);
            lua_pushliteral(L, "load: binary chunks are not allowed; warren loads text only");
            return 2;
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));  // the original load
    lua_pushvalue(L, 1);
    if (nargs >= 2) lua_pushvalue(L, 2); else lua_pushnil(L);
    lua_pushliteral(L, "t");
    int n = 3;
    if (nargs >= 4) { lua_pushvalue(L, 4); n = 4; }
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L) - nargs;
}

// xpcall(f, handler, ...) whose handler does not run when the runtime stopped the chunk (budget,
// memory, Ctrl-C): that error is raised from the count hook, where hooks are off, so a handler
// that loops would be out of reach of the budget and of Ctrl-C. For the chunk's own errors the
// handler runs as usual, with hooks on.
static int guarded_message_handler(lua_State *L) {
    if (warren_limits_of(L)->kill != WARREN_KILL_NONE) return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int guarded_xpcall(lua_State *L) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_message_handler, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));  // the original xpcall
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

// setmetatable without finalizers: __gc runs during garbage collection with hooks off, where
// neither the budget nor Ctrl-C can stop it.
static int setmetatable_without_gc(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (has_gc)
            return luaL_error(L, "setmetatable: finalizers (__gc) are not available in warren: they run where "
                                 "neither the instruction budget nor Ctrl-C can stop them");
    }
    lua_pushvalue(L, lua_upvalueindex(1));  // the original setmetatable
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

extern void warren_open_patterns(lua_State *L);

int warren_open_sandbox(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    lua_pop(L, 1);

    // os: only time, clock, date; anything else raises.
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_newtable(L);
    static const char *const os_allowed[] = {"time", "clock", "date", "difftime", NULL};
    for (int i = 0; os_allowed[i]; i++) {
        lua_getfield(L, -2, os_allowed[i]);
        lua_setfield(L, -2, os_allowed[i]);
    }
    lua_newtable(L);
    lua_pushcfunction(L, refused_os);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setglobal(L, "os");
    lua_pop(L, 1);
    // The full os library stays registered in package.loaded only; drop that table too.
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);

    // base: no dofile/loadfile; load limited to text chunks.
    lua_pushglobaltable(L);
    lua_pushnil(L);
    lua_setfield(L, -2, "dofile");
    lua_pushnil(L);
    lua_setfield(L, -2, "loadfile");
    lua_pushnil(L);
    lua_setfield(L, -2, "collectgarbage");
    lua_getfield(L, -1, "load");
    lua_pushcclosure(L, safe_load, 1);
    lua_setfield(L, -2, "load");
    lua_getfield(L, -1, "xpcall");
    lua_pushcclosure(L, guarded_xpcall, 1);
    lua_setfield(L, -2, "xpcall");
    lua_getfield(L, -1, "setmetatable");
    lua_pushcclosure(L, setmetatable_without_gc, 1);
    lua_setfield(L, -2, "setmetatable");
    // string.dump refused
    lua_getfield(L, -1, "string");
    lua_pushcfunction(L, refused_dump);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    // string patterns under the budget and Ctrl-C (lua_patterns.c)
    warren_open_patterns(L);
    // globals: refused names explain themselves
    lua_newtable(L);
    lua_pushcfunction(L, refused_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    return 0;
}
