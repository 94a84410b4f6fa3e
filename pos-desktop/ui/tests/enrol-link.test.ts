// The enrolment link parser against the examples of shared-model's enrol_link tests.
import { describe, expect, it } from "vitest";
import { parseEnrolLink } from "../src/enrol-link";

const EXAMPLE = "snapkasir://enrol?server=https%3A%2F%2Fpos.example.com%3A8443&code=K7QM-2XWP-9HDA";

describe("enrolment link", () => {
  it("reads the server and the code", () => {
    expect(parseEnrolLink(EXAMPLE)).toEqual({ server: "https://pos.example.com:8443", code: "K7QM-2XWP-9HDA" });
  });

  it("tolerates a scanner's Enter, upper case and unknown parameters", () => {
    expect(parseEnrolLink(`  SNAPKASIR://ENROL?${EXAMPLE.slice(18)}\r\n`)?.code).toBe("K7QM-2XWP-9HDA");
    expect(parseEnrolLink("snapkasir://enrol?v=1&code=AB12&server=http://10.0.0.5:8080/sub/path")).toEqual({
      server: "http://10.0.0.5:8080/sub/path",
      code: "AB12",
    });
  });

  it("refuses what is not a valid link", () => {
    for (const bad of [
      "",
      "K7QM-2XWP-9HDA",
      "https://pos.example.com",
      "snapkasir://enrol?code=AB12",
      "snapkasir://enrol?server=https%3A%2F%2Fx",
      "snapkasir://enrol?server=ftp%3A%2F%2Fx&code=AB12",
      "snapkasir://enrol?server=https%3A%2F%2F&code=AB12",
      "snapkasir://enrol?server=https%3A%2F%2Fx&code=AB%2012",
      "snapkasir://enrol?server=https%3A%2F%2Fx&code=",
      "snapkasir://enrol?server=https%3A%2F%2Fx&code=A&code=B",
      "snapkasir://enrol?server=https%3A%2F%2Fx%20y&code=AB12",
      "snapkasir://enrol?server=https%3A%2F%2Fx&code=%FF",
      "snapkasir://pair?server=https%3A%2F%2Fx&code=AB12",
    ]) {
      expect(parseEnrolLink(bad), bad).toBeNull();
    }
  });
});
