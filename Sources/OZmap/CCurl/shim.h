// libcurl for Swift: curl_easy_setopt and curl_easy_getinfo are variadic,
// which Swift cannot call; these typed wrappers can.
#include <curl/curl.h>

typedef size_t (*ozmap_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef int (*ozmap_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode ozmap_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ozmap_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ozmap_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ozmap_curl_setopt_errorbuffer(CURL *handle, char *buffer) {
    return curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, buffer);
}

/// The size CURLOPT_ERRORBUFFER's buffer must have.
static const size_t ozmap_curl_error_size = CURL_ERROR_SIZE;

static inline CURLcode ozmap_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ozmap_curl_setopt_callback(CURL *handle, CURLoption option, ozmap_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ozmap_curl_setopt_xferinfo(CURL *handle, ozmap_curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}

static inline CURLcode ozmap_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
