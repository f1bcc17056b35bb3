/* kpt validator (image kpt-fn/count-items), a static binary: passes the ResourceList on
 * unchanged and reports on stderr how many items it holds; fails (exit 1) when the input is
 * not a ResourceList or holds no item. Reads at most 64 MiB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT (64L * 1024 * 1024)

int main(void) {
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap + 1);
    if (!buf) return 2;
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (size_t)LIMIT) { fputs("count-items: input over 64 MiB\n", stderr); return 1; }
            cap *= 2;
            char *grown = realloc(buf, cap + 1);
            if (!grown) return 2;
            buf = grown;
        }
    }
    buf[len] = '\0';
    if (!strstr(buf, "\nkind: ResourceList") && strncmp(buf, "kind: ResourceList", 18) != 0) {
        fputs("count-items: the input is not a ResourceList\n", stderr);
        return 1;
    }
    long items = 0;
    int in_items = 0;
    for (char *line = buf; line && *line; ) {
        char *next = strchr(line, '\n');
        if (strncmp(line, "items:", 6) == 0) in_items = 1;
        else if (line[0] != ' ' && line[0] != '-' && line[0] != '\n') in_items = 0;
        if (in_items && strncmp(line, "- ", 2) == 0) items++;
        line = next ? next + 1 : NULL;
    }
    if (fwrite(buf, 1, len, stdout) != len) return 2;
    fprintf(stderr, "count-items: %ld items\n", items);
    if (items == 0) { fputs("count-items: no items\n", stderr); return 1; }
    return 0;
}
