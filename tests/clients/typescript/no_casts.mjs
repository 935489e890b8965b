// The flow must type-check on the document's types alone. The compiler has no switch that
// forbids the escapes, so this walks the syntax tree: any cast (`x as T`, `<T>x`), `any`, a
// non-null assertion (`x!`) or a @ts- directive would let a wrong document compile.
// Usage: node no_casts.mjs file.ts...; prints each escape as file:line:col and exits 1 if any.
import { readFileSync } from "node:fs";
import ts from "typescript";

const ESCAPES = new Map([
  [ts.SyntaxKind.AsExpression, "`as` cast"],
  [ts.SyntaxKind.TypeAssertionExpression, "<T> cast"],
  [ts.SyntaxKind.NonNullExpression, "`!` non-null assertion"],
  [ts.SyntaxKind.AnyKeyword, "`any`"],
]);
const DIRECTIVE = /@ts-(ignore|expect-error|nocheck)/;

let found = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const report = (position, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(position);
    console.log(`${file}:${line + 1}:${character + 1}: ${what}`);
    found += 1;
  };
  const visit = (node) => {
    const what = ESCAPES.get(node.kind);
    // `as const` only narrows a literal; it asserts nothing about a response.
    const asConst = node.kind === ts.SyntaxKind.AsExpression && ts.isConstTypeReference(node.type);
    if (what !== undefined && !asConst) report(node.getStart(source), what);
    ts.forEachChild(node, visit);
  };
  visit(source);
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    const comment = kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia;
    if (comment && DIRECTIVE.test(scanner.getTokenText())) report(scanner.getTokenStart(), "@ts- directive");
  }
}
process.exitCode = found === 0 ? 0 : 1;
