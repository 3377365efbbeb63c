#include "editline_shims.h"
#include <locale.h>
#include <string.h>

EditLine *warren_el_open(const char *program, FILE *in, FILE *out, FILE *err,
                         const char *terminal, void *client_data,
                         warren_el_prompt_fn prompt, char prompt_escape) {
    EditLine *el = el_init(program, in, out, err);
    if (el == NULL) return NULL;
    if (terminal != NULL) el_set(el, EL_TERMINAL, terminal);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_SIGNAL, 1);
    el_set(el, EL_CLIENTDATA, client_data);
    if (prompt_escape != 0)
        el_set(el, EL_PROMPT_ESC, prompt, prompt_escape);
    else
        el_set(el, EL_PROMPT, prompt);
    return el;
}

void *warren_el_client_data(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

int warren_el_bind_function(EditLine *el, const char *name, const char *help,
                            warren_el_command_fn fn, const char *key) {
    if (el_set(el, EL_ADDFN, name, help, fn) != 0) return -1;
    return el_set(el, EL_BIND, key, name, NULL);
}

int warren_el_use_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

int warren_el_source_user_settings(EditLine *el) {
    return el_source(el, NULL);
}

void warren_el_prepare_terminal(EditLine *el) {
    el_set(el, EL_PREP_TERM, 1);
}

History *warren_history_open(int size, int unique) {
    History *h = history_init();
    if (h == NULL) return NULL;
    HistEvent ev;
    history(h, &ev, H_SETSIZE, size);
    history(h, &ev, H_SETUNIQUE, unique);
    return h;
}

void warren_history_close(History *h) { history_end(h); }

int warren_history_load(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_LOAD, path);
}

int warren_history_save(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_SAVE, path);
}

int warren_history_enter(History *h, const char *line) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, line);
}

int warren_history_erase(History *h, const char *line) {
    HistEvent ev;
    int removed = 0;
    // Collect first: deleting while walking invalidates the cursor.
    int nums[64];
    for (;;) {
        int n = 0;
        for (int rv = history(h, &ev, H_FIRST); rv != -1 && n < 64; rv = history(h, &ev, H_NEXT)) {
            if (strcmp(ev.str, line) == 0) nums[n++] = ev.num;
        }
        if (n == 0) break;
        for (int i = 0; i < n; i++) {
            if (history(h, &ev, H_DEL, nums[i]) != -1) removed++;
        }
        if (n < 64) break;
    }
    return removed;
}

int warren_history_count(History *h) {
    HistEvent ev;
    if (history(h, &ev, H_GETSIZE) == -1) return 0;
    return ev.num;
}

void *warren_utf8_locale_new(void) {
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (loc == (locale_t)0) loc = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);
    if (loc == (locale_t)0) loc = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    if (loc == (locale_t)0) loc = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
    return loc == (locale_t)0 ? NULL : (void *)loc;
}

void warren_locale_free(void *locale) {
    if (locale != NULL) freelocale((locale_t)locale);
}

void *warren_locale_use(void *locale) {
    if (locale == NULL) return NULL;
    return (void *)uselocale((locale_t)locale);
}
