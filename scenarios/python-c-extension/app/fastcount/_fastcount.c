/* The C extension: counts word frequencies in a text, the hot loop of the web app. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <ctype.h>

static PyObject *count_words(PyObject *self, PyObject *args) {
    const char *text;
    Py_ssize_t length;
    if (!PyArg_ParseTuple(args, "s#", &text, &length)) {
        return NULL;
    }
    PyObject *counts = PyDict_New();
    if (counts == NULL) {
        return NULL;
    }
    Py_ssize_t start = -1;
    for (Py_ssize_t i = 0; i <= length; i++) {
        int in_word = i < length && isalnum((unsigned char)text[i]);
        if (in_word && start < 0) {
            start = i;
        } else if (!in_word && start >= 0) {
            PyObject *word = PyUnicode_FromStringAndSize(text + start, i - start);
            if (word == NULL) {
                Py_DECREF(counts);
                return NULL;
            }
            PyObject *lower = PyObject_CallMethod(word, "lower", NULL);
            Py_DECREF(word);
            if (lower == NULL) {
                Py_DECREF(counts);
                return NULL;
            }
            PyObject *old = PyDict_GetItemWithError(counts, lower);
            long next = old == NULL ? 1 : PyLong_AsLong(old) + 1;
            PyObject *value = PyLong_FromLong(next);
            int failed = value == NULL || PyDict_SetItem(counts, lower, value) < 0;
            Py_XDECREF(value);
            Py_DECREF(lower);
            if (failed) {
                Py_DECREF(counts);
                return NULL;
            }
            start = -1;
        }
    }
    return counts;
}

static PyMethodDef methods[] = {
    {"count_words", count_words, METH_VARARGS, "Word -> count for a text, case-folded."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastcount", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastcount(void) { return PyModule_Create(&module); }
