file(REMOVE_RECURSE
  "libbrainsim.a"
)
