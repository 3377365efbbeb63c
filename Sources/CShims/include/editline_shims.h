#ifndef WARREN_EDITLINE_SHIMS_H
#define WARREN_EDITLINE_SHIMS_H
// Non-variadic wrappers over libedit's el_set/el_get/history, which do not import into Swift.
// Checked against libedit 3.1-20221030 (Debian/Ubuntu libedit2).
#include <stdio.h>
#include <histedit.h>

typedef char *(*warren_el_prompt_fn)(EditLine *el);
typedef unsigned char (*warren_el_command_fn)(EditLine *el, int ch);

// ---- EditLine ----
/// el_init plus the settings every warren editor shares: emacs keys, EL_SIGNAL 1, client data,
/// a prompt function whose invisible sequences are bracketed by `prompt_escape` (0 for none).
EditLine *warren_el_open(const char *program, FILE *in, FILE *out, FILE *err,
                         const char *terminal, void *client_data,
                         warren_el_prompt_fn prompt, char prompt_escape);
void *warren_el_client_data(EditLine *el);
/// EL_ADDFN name + EL_BIND key name.
int warren_el_bind_function(EditLine *el, const char *name, const char *help,
                            warren_el_command_fn fn, const char *key);
/// EL_HIST with the standard `history` function.
int warren_el_use_history(EditLine *el, History *h);

/// Applies the user's libedit settings: $EDITRC, else ~/.editrc (lines may be prefixed `warren:`).
/// A missing file is not an error. Returns el_source's result.
int warren_el_source_user_settings(EditLine *el);

/// EL_PREP_TERM: puts the terminal in libedit's editing mode now (el_gets leaves it when it
/// returns). el_gets draws the prompt before it switches modes itself, so a key typed at a visible
/// prompt could otherwise still be cooked by the kernel (^D read back as NUL, ^C as SIGINT).
void warren_el_prepare_terminal(EditLine *el);

// ---- History ----
History *warren_history_open(int size, int unique);
void warren_history_close(History *h);
/// H_LOAD; returns the number of entries read, or -1.
int warren_history_load(History *h, const char *path);
/// H_SAVE; returns the number of entries written, or -1.
int warren_history_save(History *h, const char *path);
/// H_ENTER (the string must not end with a newline).
int warren_history_enter(History *h, const char *line);
/// Removes every entry equal to `line`; returns how many were removed.
int warren_history_erase(History *h, const char *line);
/// H_GETSIZE.
int warren_history_count(History *h);

// ---- Locale ----
/// A thread-usable locale whose LC_CTYPE is UTF-8 (C.UTF-8, else the environment's), or NULL.
void *warren_utf8_locale_new(void);
void warren_locale_free(void *locale);
/// uselocale(locale); returns the previous thread locale.
void *warren_locale_use(void *locale);

#endif
