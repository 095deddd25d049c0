# Writes INPUT as a C array named SYMBOL into OUTPUT (cmake -P script).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" length)
math(EXPR size "${length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],){16}" "\\0\n" bytes "${bytes}")
file(WRITE "${OUTPUT}"
  "// Generated from ${INPUT}; do not edit.\n"
  "static const unsigned char ${SYMBOL}[] = {\n${bytes}\n};\n"
  "static const unsigned long ${SYMBOL}Size = ${size};\n")
