// Lua string patterns (string.find, match, gmatch, gsub) under warren's limits.
//
// Lua's own matcher runs in C without executing Lua instructions, so the instruction budget
// and Ctrl-C (both checked by a count hook) cannot stop it, and a pattern such as
// ("a?"):rep(30)..("a"):rep(30) backtracks for minutes. This matcher has Lua 5.4's semantics
// (the reference manual, section 6.4.1) and counts its steps against the state's instruction
// budget, checking the budget and an interrupt request every WARREN_PATTERN_CHECK steps.
#define _GNU_SOURCE
#include "lua_shims.h"
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#define ESC '%'
#define SPECIALS "^$*+?.([%-"
#define MAX_CAPTURES 32
#define MAX_DEPTH 200
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define WARREN_PATTERN_CHECK 4096

#define uchar(c) ((unsigned char)(c))

typedef struct {
    const char *src_init;
    const char *src_end;
    const char *p_end;
    lua_State *L;
    long pending;  // steps not yet counted against the budget
    int depth;     // recursion left
    int level;     // captures
    struct {
        const char *init;
        ptrdiff_t len;
    } capture[MAX_CAPTURES];
} Match;

extern void warren_arm_kill(lua_State *L);

static const char *stop_message(warren_kill_reason r) {
    switch (r) {
    case WARREN_KILL_BUDGET: return "instruction budget exceeded (in a string pattern)";
    case WARREN_KILL_INTERRUPT: return "interrupted";
    default: return "stopped";
    }
}

/// Counts the pending steps; raises (from C, no Swift frame is on the stack) when the budget is
/// spent or an interrupt was requested, arming the hook so that a pcall cannot swallow it.
static void flush(Match *ms) {
    warren_limits *lim = warren_limits_of(ms->L);
    lim->executed += ms->pending;
    ms->pending = 0;
    if (lim->kill == WARREN_KILL_NONE) {
        if (lim->interrupt) lim->kill = WARREN_KILL_INTERRUPT;
        else if (lim->budget > 0 && lim->executed > lim->budget) lim->kill = WARREN_KILL_BUDGET;
    }
    if (lim->kill != WARREN_KILL_NONE) {
        warren_arm_kill(ms->L);
        luaL_error(ms->L, "%s", stop_message(lim->kill));
    }
}

static inline void count(Match *ms, long n) {
    ms->pending += n;
    if (ms->pending >= WARREN_PATTERN_CHECK) flush(ms);
}

static const char *match(Match *ms, const char *s, const char *p);

static int class_matches(int c, int cl) {
    int res;
    switch (tolower(cl)) {
    case 'a': res = isalpha(c); break;
    case 'c': res = iscntrl(c); break;
    case 'd': res = isdigit(c); break;
    case 'g': res = isgraph(c); break;
    case 'l': res = islower(c); break;
    case 'p': res = ispunct(c); break;
    case 's': res = isspace(c); break;
    case 'u': res = isupper(c); break;
    case 'w': res = isalnum(c); break;
    case 'x': res = isxdigit(c); break;
    default: return cl == c;
    }
    if (isupper(cl)) res = !res;
    return res;
}

/// Whether c is in the set [ ... ] that starts at p and whose ']' is at ec.
static int set_matches(int c, const char *p, const char *ec) {
    int in = 1;
    if (*(p + 1) == '^') {
        in = 0;
        p++;
    }
    while (++p < ec) {
        if (*p == ESC) {
            p++;
            if (class_matches(c, uchar(*p))) return in;
        } else if (*(p + 1) == '-' && p + 2 < ec) {
            p += 2;
            if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return in;
        } else if (uchar(*p) == c) {
            return in;
        }
    }
    return !in;
}

/// The end of the single-character class that starts at p.
static const char *class_end(Match *ms, const char *p) {
    switch (*p++) {
    case ESC:
        if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (*p == '^') p++;
        do {
            if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
            if (*(p++) == ESC && p < ms->p_end) p++;
        } while (*p != ']');
        return p + 1;
    default:
        return p;
    }
}

static int single_matches(Match *ms, const char *s, const char *p, const char *ep) {
    if (s >= ms->src_end) return 0;
    int c = uchar(*s);
    switch (*p) {
    case '.': return 1;
    case ESC: return class_matches(c, uchar(*(p + 1)));
    case '[': return set_matches(c, p, ep - 1);
    default: return uchar(*p) == c;
    }
}

static const char *match_balance(Match *ms, const char *s, const char *p) {
    if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != *p) return NULL;
    int open = *p, close = *(p + 1), depth = 1;
    while (++s < ms->src_end) {
        count(ms, 1);
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *max_expand(Match *ms, const char *s, const char *p, const char *ep) {
    ptrdiff_t i = 0;
    while (single_matches(ms, s + i, p, ep)) {
        i++;
        count(ms, 1);
    }
    while (i >= 0) {
        const char *res = match(ms, s + i, ep + 1);
        if (res) return res;
        i--;
    }
    return NULL;
}

static const char *min_expand(Match *ms, const char *s, const char *p, const char *ep) {
    for (;;) {
        const char *res = match(ms, s, ep + 1);
        if (res != NULL) return res;
        if (!single_matches(ms, s, p, ep)) return NULL;
        s++;
        count(ms, 1);
    }
}

static const char *start_capture(Match *ms, const char *s, const char *p, int what) {
    int level = ms->level;
    if (level >= MAX_CAPTURES) luaL_error(ms->L, "too many captures");
    ms->capture[level].init = s;
    ms->capture[level].len = what;
    ms->level = level + 1;
    const char *res = match(ms, s, p);
    if (res == NULL) ms->level--;
    return res;
}

static int capture_to_close(Match *ms) {
    for (int level = ms->level - 1; level >= 0; level--) {
        if (ms->capture[level].len == CAP_UNFINISHED) return level;
    }
    return luaL_error(ms->L, "invalid pattern capture");
}

static const char *end_capture(Match *ms, const char *s, const char *p) {
    int l = capture_to_close(ms);
    ms->capture[l].len = s - ms->capture[l].init;
    const char *res = match(ms, s, p);
    if (res == NULL) ms->capture[l].len = CAP_UNFINISHED;
    return res;
}

static int check_capture(Match *ms, int l) {
    l -= '1';
    if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
        return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    return l;
}

static const char *match_capture(Match *ms, const char *s, int l) {
    l = check_capture(ms, l);
    size_t len = (size_t)ms->capture[l].len;
    count(ms, (long)(len / 64) + 1);
    if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0) return s + len;
    return NULL;
}

static const char *match(Match *ms, const char *s, const char *p) {
    if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
again:
    count(ms, 1);
    if (p != ms->p_end) {
        switch (*p) {
        case '(':
            if (*(p + 1) == ')') s = start_capture(ms, s, p + 2, CAP_POSITION);
            else s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
            break;
        case ')':
            s = end_capture(ms, s, p + 1);
            break;
        case '$':
            if (p + 1 != ms->p_end) goto single;
            s = (s == ms->src_end) ? s : NULL;
            break;
        case ESC:
            switch (*(p + 1)) {
            case 'b':
                s = match_balance(ms, s, p + 2);
                if (s != NULL) {
                    p += 4;
                    goto again;
                }
                break;
            case 'f': {
                p += 2;
                if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                const char *ep = class_end(ms, p);
                char previous = (s == ms->src_init) ? '\0' : *(s - 1);
                char current = (s < ms->src_end) ? *s : '\0';
                if (!set_matches(uchar(previous), p, ep - 1) && set_matches(uchar(current), p, ep - 1)) {
                    p = ep;
                    goto again;
                }
                s = NULL;
                break;
            }
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
                s = match_capture(ms, s, uchar(*(p + 1)));
                if (s != NULL) {
                    p += 2;
                    goto again;
                }
                break;
            default:
                goto single;
            }
            break;
        default:
        single: {
            const char *ep = class_end(ms, p);
            if (!single_matches(ms, s, p, ep)) {
                if (*ep == '*' || *ep == '?' || *ep == '-') {
                    p = ep + 1;
                    goto again;
                }
                s = NULL;
            } else {
                switch (*ep) {
                case '?': {
                    const char *res = match(ms, s + 1, ep + 1);
                    if (res != NULL) {
                        s = res;
                    } else {
                        p = ep + 1;
                        goto again;
                    }
                    break;
                }
                case '+': s = max_expand(ms, s + 1, p, ep); break;
                case '*': s = max_expand(ms, s, p, ep); break;
                case '-': s = min_expand(ms, s, p, ep); break;
                default:
                    s++;
                    p = ep;
                    goto again;
                }
            }
            break;
        }
        }
    }
    ms->depth++;
    return s;
}

// MARK: Captures

static ptrdiff_t get_capture(Match *ms, int i, const char *s, const char *e, const char **cap) {
    if (i >= ms->level) {
        if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        *cap = s;
        return e - s;
    }
    ptrdiff_t len = ms->capture[i].len;
    *cap = ms->capture[i].init;
    if (len == CAP_UNFINISHED) luaL_error(ms->L, "unfinished capture");
    else if (len == CAP_POSITION) lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
    return len;
}

static void push_capture(Match *ms, int i, const char *s, const char *e) {
    const char *cap;
    ptrdiff_t len = get_capture(ms, i, s, e, &cap);
    if (len != CAP_POSITION) lua_pushlstring(ms->L, cap, (size_t)len);
}

static int push_captures(Match *ms, const char *s, const char *e) {
    int n = (ms->level == 0 && s) ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_capture(ms, i, s, e);
    return n;
}

static void prepare(Match *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    ms->L = L;
    ms->src_init = s;
    ms->src_end = s + ls;
    ms->p_end = p + lp;
    ms->pending = 0;
}

static void restart(Match *ms) {
    ms->level = 0;
    ms->depth = MAX_DEPTH;
}

static size_t relative_start(lua_Integer pos, size_t len) {
    if (pos > 0) return (size_t)pos;
    if (pos == 0) return 1;
    if (pos < -(lua_Integer)len) return 1;
    return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t l) {
    size_t upto = 0;
    do {
        if (strpbrk(p + upto, SPECIALS) != NULL) return 1;
        upto += strlen(p + upto) + 1;  // a pattern may hold '\0's
    } while (upto <= l);
    return 0;
}

// MARK: string.find and string.match

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = relative_start(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        // A plain search: memmem is linear in the subject and the needle.
        const char *found = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
        if (found) {
            lua_pushinteger(L, (found - s) + 1);
            lua_pushinteger(L, (found - s) + (lua_Integer)lp);
            return 2;
        }
    } else {
        Match ms;
        const char *s1 = s + init;
        int anchor = (*p == '^');
        if (anchor) {
            p++;
            lp--;
        }
        prepare(&ms, L, s, ls, p, lp);
        do {
            restart(&ms);
            const char *e = match(&ms, s1, p);
            if (e != NULL) {
                if (find) {
                    lua_pushinteger(L, (s1 - s) + 1);
                    lua_pushinteger(L, e - s);
                    return push_captures(&ms, NULL, 0) + 2;
                }
                return push_captures(&ms, s1, e);
            }
        } while (s1++ < ms.src_end && !anchor);
    }
    luaL_pushfail(L);
    return 1;
}

static int str_find(lua_State *L) { return find_or_match(L, 1); }
static int str_match(lua_State *L) { return find_or_match(L, 0); }

// MARK: string.gmatch

typedef struct {
    const char *src;
    const char *p;
    const char *lastmatch;
    Match ms;
} GMatch;

static int gmatch_next(lua_State *L) {
    GMatch *gm = (GMatch *)lua_touserdata(L, lua_upvalueindex(3));
    gm->ms.L = L;
    for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
        restart(&gm->ms);
        const char *e = match(&gm->ms, src, gm->p);
        if (e != NULL && e != gm->lastmatch) {
            gm->src = gm->lastmatch = e;
            return push_captures(&gm->ms, src, e);
        }
    }
    return 0;
}

static int str_gmatch(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = relative_start(luaL_optinteger(L, 3, 1), ls) - 1;
    lua_settop(L, 2);  // the subject and pattern stay alive as upvalues
    GMatch *gm = (GMatch *)lua_newuserdatauv(L, sizeof(GMatch), 0);
    if (init > ls) init = ls + 1;
    prepare(&gm->ms, L, s, ls, p, lp);
    gm->src = s + init;
    gm->p = p;
    gm->lastmatch = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

// MARK: string.gsub

static void add_replacement_string(Match *ms, luaL_Buffer *b, const char *s, const char *e) {
    size_t l;
    lua_State *L = ms->L;
    const char *news = lua_tolstring(L, 3, &l);
    const char *p;
    while ((p = (const char *)memchr(news, ESC, l)) != NULL) {
        luaL_addlstring(b, news, (size_t)(p - news));
        p++;
        if (*p == ESC) {
            luaL_addchar(b, *p);
        } else if (*p == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit(uchar(*p))) {
            const char *cap;
            ptrdiff_t len = get_capture(ms, *p - '1', s, e, &cap);
            if (len == CAP_POSITION) luaL_addvalue(b);
            else luaL_addlstring(b, cap, (size_t)len);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", ESC);
        }
        l -= (size_t)(p + 1 - news);
        news = p + 1;
    }
    luaL_addlstring(b, news, l);
}

static int add_replacement(Match *ms, luaL_Buffer *b, const char *s, const char *e, int kind) {
    lua_State *L = ms->L;
    switch (kind) {
    case LUA_TFUNCTION: {
        lua_pushvalue(L, 3);
        int n = push_captures(ms, s, e);
        lua_call(L, n, 1);
        break;
    }
    case LUA_TTABLE:
        push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
        break;
    default:
        add_replacement_string(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));  // keep the original text
        return 0;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int str_gsub(lua_State *L) {
    size_t srcl, lp;
    const char *src = luaL_checklstring(L, 1, &srcl);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *lastmatch = NULL;
    int kind = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
    int anchor = (*p == '^');
    lua_Integer n = 0;
    int changed = 0;
    Match ms;
    luaL_Buffer b;
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE, 3,
                     "string/function/table");
    luaL_buffinit(L, &b);
    if (anchor) {
        p++;
        lp--;
    }
    prepare(&ms, L, src, srcl, p, lp);
    while (n < max_n) {
        restart(&ms);
        const char *e = match(&ms, src, p);
        if (e != NULL && e != lastmatch) {
            n++;
            changed = add_replacement(&ms, &b, src, e, kind) | changed;
            src = lastmatch = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void warren_open_patterns(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub}, {NULL, NULL},
    };
    lua_getglobal(L, "string");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
}
