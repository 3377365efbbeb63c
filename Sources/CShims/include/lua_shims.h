#ifndef WARREN_LUA_SHIMS_H
#define WARREN_LUA_SHIMS_H
// C side of warren's Lua runtime. Everything that may raise a Lua error (longjmp) happens here,
// never in a Swift frame: Swift host functions return WARREN_HOST_ERROR and the trampoline raises.
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#include <stddef.h>
#include <stdint.h>

/// Why a running chunk was stopped by the runtime (not by its own error).
typedef enum {
    WARREN_KILL_NONE = 0,
    WARREN_KILL_BUDGET = 1,
    WARREN_KILL_MEMORY = 2,
    WARREN_KILL_INTERRUPT = 3,
} warren_kill_reason;

/// Per-state limits and counters; lives in the state's extra space (see warren_newstate).
typedef struct {
    lua_State *L;             // the main state
    void *host;               // the Swift LuaState object (unretained)
    size_t used;              // bytes allocated
    size_t cap;               // allocation cap in bytes
    int in_host;              // > 0 while a host function runs: allocations may exceed the cap
    int64_t budget;           // instruction budget; <= 0: unlimited
    int64_t executed;         // instructions counted so far (granularity WARREN_HOOK_EVERY)
    warren_kill_reason kill;  // set once a limit trips; the hook then raises on every instruction
    volatile int interrupt;   // Ctrl-C requested for this state
} warren_limits;

#define WARREN_HOOK_EVERY 1000
/// Host function results: raise the message on the stack as it is, or prefixed with the
/// calling Lua line ("chunk:line: message").
#define WARREN_HOST_ERROR (-1)
#define WARREN_HOST_ERROR_AT (-2)

/// The Swift dispatcher: runs host function `index` with its arguments on L's stack.
/// Returns the number of results pushed, or WARREN_HOST_ERROR with the message on the stack.
typedef int (*warren_dispatch_fn)(lua_State *L, int index);
void warren_set_dispatch(warren_dispatch_fn fn);

lua_State *warren_newstate(size_t cap, void *host);
warren_limits *warren_limits_of(lua_State *L);
void *warren_host_of(lua_State *L);

/// Opens the sandboxed libraries into the globals: base (without dofile/loadfile, with a
/// text-only load), string (without dump), table, math, utf8, and os.time/clock/date.
/// Names of refused libraries and functions raise an explanatory error when used.
int warren_open_sandbox(lua_State *L);

/// Pushes a C closure that calls host function `index`.
void warren_push_host_function(lua_State *L, int index);

/// Arms the hook: limits are checked every WARREN_HOOK_EVERY instructions.
void warren_arm_hook(lua_State *L);
/// Clears a kill, resets the instruction count and re-arms the normal hook.
void warren_reset_limits(lua_State *L);
/// Requests an interrupt of whatever runs in the state registered by warren_set_interrupt_target;
/// with none registered, the request waits for the next one (or warren_discard_interrupt).
/// Async-signal-safe: meant to be called from a SIGINT handler.
void warren_request_interrupt(void);
/// Registers (NULL: unregisters) the state running a top-level call; it claims a waiting request.
void warren_set_interrupt_target(lua_State *L);
/// Whether an interrupt is requested now: the registered state's, else the waiting request.
int warren_interrupt_requested(void);
/// Drops a waiting request (a new prompt: a Ctrl-C typed before it belongs to nothing).
void warren_discard_interrupt(void);
/// Requests an interrupt of this state (what the SIGINT handler does for the target state).
void warren_interrupt_state(lua_State *L);
int warren_interrupt_pending(lua_State *L);
/// Installs the handlers of SIGINT (Ctrl-C), SIGTERM and SIGHUP: each requests an interrupt of
/// what runs; SIGTERM and SIGHUP are also remembered (warren_termination_signal) and make a
/// read blocked on a watched input end (it reads as end of input). SIGPIPE is ignored.
void warren_install_signal_handlers(void);
/// SIGTERM or SIGHUP once one arrived; 0 before.
int warren_termination_signal(void);
/// Watches (unwatches) an input descriptor that the operator's answers are read from.
void warren_watch_input_fd(int fd);
void warren_unwatch_input_fd(int fd);

/// Loads a text chunk (binary chunks are refused). Returns a lua status; on error the message is on the stack.
int warren_load(lua_State *L, const char *source, size_t length, const char *chunkname);
/// Calls the function below `nargs` arguments in protected mode with a traceback handler.
int warren_pcall(lua_State *L, int nargs, int nresults);

/// Pushes luaL_tolstring of the value at idx in protected mode (a __tostring may fail); returns 0 on success.
int warren_tostring(lua_State *L, int idx);

// Macros and helpers that do not import into Swift.
static inline void warren_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void warren_newtable(lua_State *L) { lua_newtable(L); }
static inline int warren_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline const char *warren_tostringx(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
static inline lua_Integer warren_tointegerx(lua_State *L, int idx, int *isnum) { return lua_tointegerx(L, idx, isnum); }
static inline lua_Number warren_tonumberx(lua_State *L, int idx, int *isnum) { return lua_tonumberx(L, idx, isnum); }
static inline void warren_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline int warren_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void *warren_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int warren_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void warren_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void warren_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void warren_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline int warren_gc_kbytes(lua_State *L) { return lua_gc(L, LUA_GCCOUNT); }

#endif
