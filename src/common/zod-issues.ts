/** One zod issue as `path.to.field: message` (`(root)` when the issue is on the value itself). */
export function formatIssue(i: { path: PropertyKey[]; message: string }): string {
  return `${i.path.map(String).join('.') || '(root)'}: ${i.message}`;
}
